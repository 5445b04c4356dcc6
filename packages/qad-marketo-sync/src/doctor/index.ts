/**
 * `@ml/qad-marketo-sync/doctor`: ping the real QAD and Marketo systems and see whether a sync fits them.
 *
 * @module
 */
export { doctor } from "./doctor.js";
export { formatDoctorReport } from "./format.js";
export type { DoctorCheck, DoctorCheckId, DoctorOptions, DoctorReport, DoctorStatus } from "./types.js";
