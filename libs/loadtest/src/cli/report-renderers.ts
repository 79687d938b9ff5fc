/** The report renderers the CLI uses. */
export { compareReports, evaluateThresholds, parseThreshold, renderHtmlReport, renderSummaryTable } from '../report';
export type { Threshold } from '../report';
