/**
 * Rendering the report page from a store, and writing it to a file atomically.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type ReportOptions, reportData } from "./data.js";
import { renderReportHtml } from "./render.js";

/**
 * The report page of a tenant pair's recent runs, as one self-contained static HTML document: outcomes per kind per
 * run (stacked bars), Marketo calls per run against the rate-limit ceiling, the top reasons of rejected, skipped and
 * failed records with an example each, carried-forward and dead-lettered records, and account context samples. No
 * script, no external URL, a CSP that loads nothing; every store value HTML-escaped. Reads the store only.
 *
 * @example
 * const html = await renderReport({ store, tenant: "default", runs: 30 });
 */
export async function renderReport(options: ReportOptions): Promise<string> {
  return renderReportHtml(await reportData(options));
}

/** What {@link writeReport} wrote. */
export interface WrittenReport {
  /** The file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
}

/**
 * Renders the report page ({@link renderReport}) and writes it to `path` atomically: into a temporary file in the same
 * folder, then renamed over `path`, so a reader (or a web server serving the folder) never sees half a page.
 *
 * @example
 * await writeReport("report.html", { store, tenant: "default" });
 */
export async function writeReport(path: string, options: ReportOptions): Promise<WrittenReport> {
  const html = await renderReport(options);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, html, { encoding: "utf8", flag: "wx" });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { path, bytes: Buffer.byteLength(html, "utf8") };
}
