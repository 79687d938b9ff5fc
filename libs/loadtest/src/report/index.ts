export * from './load-report';
export { renderHtmlReport, readEmbeddedReport, REPORT_DATA_ELEMENT_ID } from './html/html-report';
export { renderSummaryTable, type SummaryTableOptions } from './summary-table';
export { compareReports } from './report-compare';
export {
  parseThreshold,
  ThresholdSyntaxError,
  THRESHOLD_GRAMMAR,
  type Threshold,
  type ThresholdMetric,
  type ThresholdOperator,
  type ThresholdUnit,
  type LatencyStatistic,
  type ThresholdCount,
} from './threshold.parser';
export { evaluateThresholds } from './threshold.evaluator';
