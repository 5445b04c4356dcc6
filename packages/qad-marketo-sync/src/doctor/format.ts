import type { DoctorReport } from "./types.js";

/**
 * The report as plain text lines for a terminal or a log, one per check, then one `fix:` line under each check that
 * has a fix, and a closing summary line:
 *
 * ```text
 * PASS  qad.auth        QAD credentials accepted: a token from the token endpoint and an authenticated probe succeeded
 * FAIL  marketo.fields.companies  Marketo company fields: mapped field(s) not on this instance ...
 *       fix: Admin → Field Management → New Custom Field: object Company, type String, ...
 * worst: FAIL (1 fail, 0 warn, 13 pass, 1 skip)
 * ```
 */
export function formatDoctorReport(report: DoctorReport): string[] {
  const width = Math.max(0, ...report.checks.map((c) => c.id.length));
  const lines: string[] = [];
  const counts = { fail: 0, warn: 0, pass: 0, skip: 0 };
  for (const c of report.checks) {
    counts[c.status]++;
    lines.push(`${c.status.toUpperCase().padEnd(4)}  ${c.id.padEnd(width)}  ${c.title}: ${c.detail}`);
    if (c.fix) lines.push(`${" ".repeat(6 + width + 2)}fix: ${c.fix}`);
  }
  lines.push(
    `worst: ${report.worst.toUpperCase()} (${counts.fail} fail, ${counts.warn} warn, ${counts.pass} pass, ${counts.skip} skip)`,
  );
  return lines;
}
