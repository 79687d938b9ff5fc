/** Reading a service's Prometheus text (`GET /metrics`) in specs. */

/** The value of one sample, `name{labels}` exactly as Prometheus prints it (0 when absent). */
export function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** `GET {url}/metrics`, checked to be Prometheus text. */
export async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  if (response.status !== 200) throw new Error(`GET ${url}/metrics answered ${response.status}`);
  const type = response.headers.get('content-type') ?? '';
  if (!/^text\/plain; version=0\.0\.4/.test(type)) throw new Error(`GET ${url}/metrics answered ${type}`);
  return response.text();
}

/** One sample scraped now. */
export async function metric(url: string, name: string, labels = ''): Promise<number> {
  return sample(await scrape(url), name, labels);
}
