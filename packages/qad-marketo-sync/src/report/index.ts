/**
 * The static HTML report page of recent runs (see {@link renderReport}).
 *
 * @module
 */

export type { ReasonGroup, ReportData, ReportOptions, ReportRun, ReportStore } from "./data.js";
export { REPORT_KINDS, REPORT_OUTCOMES, reportData } from "./data.js";
export { escapeHtml, MAX_TEXT } from "./escape.js";
export { REPORT_CSP, renderReportHtml } from "./render.js";
export type { WrittenReport } from "./write.js";
export { renderReport, writeReport } from "./write.js";
