/** The report renderers the CLI uses: one import to switch to `../report` when the real renderers land. */
export { compareReports, evaluateThresholds, parseThreshold, renderHtmlReport, renderSummaryTable } from '../report/pending-renderers';
export type { Threshold } from '../report/pending-renderers';
