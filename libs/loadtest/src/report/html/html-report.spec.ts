import { createEmptyReport, createSampleReport } from '../testing/sample-report';
import { readEmbeddedReport, renderHtmlReport, REPORT_DATA_ELEMENT_ID } from './html-report';

/** The HTML without its JSON data element: what the browser renders. */
const withoutData = (html: string) => html.replace(/<script type="application\/json"[^>]*>[^<]*<\/script>/, '');

describe('renderHtmlReport', () => {
  it('embeds the report JSON, which parses back to the same report', () => {
    const report = createSampleReport({ lost: 2 });
    const html = renderHtmlReport(report);
    expect(readEmbeddedReport(html)).toEqual(report);
    expect(html).toContain(`<script type="application/json" id="${REPORT_DATA_ELEMENT_ID}">`);
  });

  it('references no resource outside the file: no src, href, url(), @import, and a CSP that forbids fetching', () => {
    const report = createSampleReport();
    const page = withoutData(renderHtmlReport(report));
    expect(page).not.toMatch(/\s(src|href|action|xlink:href|srcset)\s*=/i);
    expect(page).not.toMatch(/url\s*\(|@import|<link|<iframe|<object|<embed|<img/i);
    expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    // The only http(s) addresses on the page are the targets' own, shown as text.
    const targetUrls = new Set(
      report.targets.flatMap((t) => [t.discoveryUrl, t.directoryUrl, t.relayUrl]).concat(['https://alpha.example', 'https://beta.example']),
    );
    const addresses = page.match(/https?:\/\/[^\s"'<&]+/g) ?? [];
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) expect(targetUrls).toContain(address);
  });

  it('runs no script: its only script element is the JSON data', () => {
    const html = renderHtmlReport(createSampleReport());
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
  });

  it('escapes hostile strings from the command, the options and the error in the page and the data', () => {
    const hostile = '</script><script>alert(1)</script><!--';
    const report = createSampleReport();
    report.command = ['--server', hostile];
    report.options = { [hostile]: hostile, nested: { note: `${hostile}\u2028` } };
    report.error = hostile;
    report.targets[0].serverName = '<img src=x onerror=alert(1)>';
    const html = renderHtmlReport(report);
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html.match(/<\/script/g)).toHaveLength(1);
    expect(html).not.toContain('<!--');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(readEmbeddedReport(html)).toEqual(report);
  });

  it('shows the verdict, LOST loudly, failed thresholds and every stage', () => {
    const report = createSampleReport({ lost: 3 });
    report.passed = false;
    report.thresholds = [{ expression: 'lost==0', actual: 3, passed: false }];
    const page = withoutData(renderHtmlReport(report));
    expect(page).toContain('<div class="badge">FAILED</div>');
    expect(page).toContain('<strong>LOST: 3 envelopes</strong>');
    expect(page).toContain('<strong>1 of 1 thresholds failed:</strong> <code>lost==0</code> (actual 3)');
    for (const label of ['1 · 30s:1000', '2 · 60s:1000', '3 · 30s:0']) expect(page).toContain(label);
    expect(page).toContain('<span class="pill pill-fail">FAIL</span>');
  });

  it('never shows PASSED for a run that lost anything, whatever its passed flag', () => {
    const lossy = createSampleReport({ lost: 1 });
    lossy.passed = true;
    expect(renderHtmlReport(lossy)).toContain('<div class="badge">FAILED</div>');
    expect(renderHtmlReport(createSampleReport())).toContain('<div class="badge">PASSED</div>');
  });

  it('draws the charts as inline SVG: throughput, latency (linear and log), histogram, CPU, RSS', () => {
    const page = withoutData(renderHtmlReport(createSampleReport()));
    expect(page.match(/<svg class="chart"/g)).toHaveLength(6);
    for (const title of [
      'Throughput per second',
      'Latency percentiles per second',
      'Send→deliver latency histogram',
      'Service CPU',
      'Service memory (RSS)',
    ])
      expect(page).toContain(`aria-label="${title}"`);
    expect(page).toContain('class="scale-toggle" id="latency-log"');
    expect(page).not.toContain('NaN');
  });

  it('renders a run that sent nothing, with no timeline and no service samples, saying why charts are empty', () => {
    const report = createEmptyReport();
    const page = withoutData(renderHtmlReport(report));
    expect(page).not.toContain('<svg class="chart"');
    expect(page).toContain('Nothing to draw: the run recorded no second of load.');
    expect(page).toContain('Nothing to draw: no envelope was delivered.');
    expect(page).toContain('no service samples were read');
    expect(page).toContain('Ended early (interrupted)');
    expect(page).not.toContain('NaN');
    expect(readEmbeddedReport(renderHtmlReport(report))).toEqual(report);
  });
});
