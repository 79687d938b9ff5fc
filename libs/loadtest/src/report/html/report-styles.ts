/** The report's only stylesheet, inlined: system fonts, light colours, nothing fetched. */
export const REPORT_CSS = `
:root { --ink: #1c2430; --muted: #5d6b7a; --line: #dde3ea; --soft: #f5f7fa; --pass: #15803d; --fail: #c62828; --warn: #b45309; --accent: #2f6fde; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f5; color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px; }
h1 { margin: 0; font-size: 24px; }
h2 { margin: 0 0 12px; font-size: 18px; }
h3 { margin: 16px 0 8px; font-size: 14px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
section.panel { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin: 16px 0; }
.top { display: flex; justify-content: space-between; align-items: center; background: #fff; border: 1px solid var(--line); border-left: 8px solid var(--pass); border-radius: 10px; padding: 18px 22px; }
.top-fail { border-left-color: var(--fail); }
.subtitle { margin: 4px 0 0; color: var(--muted); }
.badge { font-weight: 800; font-size: 22px; letter-spacing: .06em; color: #fff; background: var(--pass); padding: 8px 18px; border-radius: 8px; }
.top-fail .badge { background: var(--fail); }
.alert { margin: 12px 0 0; padding: 12px 16px; border-radius: 8px; border: 1px solid; }
.alert-lost { background: #fdecea; border-color: var(--fail); color: #8e1b1b; font-size: 17px; border-width: 2px; }
.alert-fail { background: #fdf0ef; border-color: #f1b5b0; color: #8e1b1b; }
.alert-warn { background: #fff7e6; border-color: #f3cf8c; color: #7a4a05; }
.cards { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card-value { font-size: 24px; font-weight: 700; font-variant-numeric: tabular-nums; margin: 2px 0; }
.card-note { color: var(--muted); font-size: 12px; }
.card-good .card-value { color: var(--pass); }
.card-bad { border: 2px solid var(--fail); background: #fdecea; }
.card-bad .card-value { color: var(--fail); }
.card-warn .card-value { color: var(--warn); }
table { border-collapse: collapse; width: 100%; }
table.data th, table.data td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
table.data th { background: var(--soft); font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
table.data td.stage-cell { font-weight: 600; vertical-align: top; background: #fbfcfd; }
.num { text-align: right !important; font-variant-numeric: tabular-nums; }
tr.row-total td { font-weight: 700; background: var(--soft); }
tr.row-lost td { background: #fdecea; color: #8e1b1b; font-weight: 700; }
tr.row-ok td { color: var(--pass); }
tr.row-warn td { color: var(--warn); }
table.pairs th { text-align: left; font-weight: 600; color: var(--muted); padding: 4px 16px 4px 0; width: 160px; vertical-align: top; }
table.pairs td { padding: 4px 0; }
.table-scroll { overflow-x: auto; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 0; }
.two-col { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
.charts { display: grid; grid-template-columns: 1fr; gap: 16px; }
figure.chart-box { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; position: relative; }
figure.chart-box h3 { margin: 0; color: var(--ink); text-transform: none; letter-spacing: 0; font-size: 15px; }
.note { margin: 2px 0 6px; color: var(--muted); font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; margin-bottom: 4px; }
.legend-item { display: inline-flex; align-items: center; gap: 6px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-size: 11px; fill: var(--muted); }
svg.chart .grid { stroke: #e9edf2; }
svg.chart .axis { stroke: #9aa6b2; }
svg.chart .series { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
svg.chart .marker { stroke: #8a96a3; stroke-dasharray: 3 3; }
svg.chart .marker-label { fill: #44505c; font-weight: 600; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg.chart .hover { fill: transparent; }
svg.chart .hover:hover { fill: rgba(47, 111, 222, .08); }
svg.chart .bar { fill: #15945a; opacity: .85; }
svg.chart .bar:hover { opacity: 1; }
.scale-toggle { position: absolute; top: 15px; right: 84px; margin: 0; }
.scale-label { position: absolute; top: 14px; right: 16px; font-size: 12px; color: var(--muted); cursor: pointer; }
.scale-toggle:checked ~ .scale-linear, .scale-toggle:not(:checked) ~ .scale-log { display: none; }
.no-data { color: var(--muted); font-style: italic; background: var(--soft); border: 1px dashed var(--line); border-radius: 6px; padding: 18px; margin: 6px 0; }
.pill { display: inline-block; padding: 1px 10px; border-radius: 999px; font-weight: 700; font-size: 12px; color: #fff; }
.pill-pass { background: var(--pass); }
.pill-fail { background: var(--fail); }
footer { color: var(--muted); font-size: 12px; margin: 24px 0; text-align: center; }
@media (max-width: 900px) { .two-col { grid-template-columns: 1fr; } .cards { grid-template-columns: repeat(2, 1fr); } }
table.narrow { width: auto; min-width: 50%; }
@media print { body { background: #fff; } section.panel, figure.chart-box { break-inside: avoid; } }
`;
