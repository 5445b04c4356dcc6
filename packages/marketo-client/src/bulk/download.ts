import { createHash } from "node:crypto";
import { isMarketoError } from "../errors.js";
import type { Logger, Sleep } from "../internal/runtime.js";
import { MarketoBulkDownloadError, MarketoChecksumError, MarketoCsvError } from "./errors.js";
import type { BulkExtractState, BulkTransport } from "./types.js";

/** What the download needs to know and whom to tell. */
export interface DownloadFileOptions {
  transport: BulkTransport;
  /** `/v1/{leads|activities}/export/{exportId}/file.json`. */
  path: string;
  signal?: AbortSignal | undefined;
  /** `fileSize` from the Completed status, when Marketo gave it. */
  fileSize?: number | undefined;
  /** `fileChecksum` from the Completed status (`sha256:<hex>`, or bare hex), when Marketo gave it. */
  fileChecksum?: string | undefined;
  maxResumeAttempts: number;
  /** First wait before resuming after a failure without progress (doubles per failure). @default 500 */
  resumeBaseDelayMs?: number | undefined;
  /** Longest wait before resuming. @default 30_000 */
  resumeMaxDelayMs?: number | undefined;
  sleep: Sleep;
  random: () => number;
  logger: Logger;
  /** Called with the byte count received so far. */
  onBytes(total: number): void;
  errorContext(): { exportId?: string | undefined; state?: BulkExtractState | undefined };
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** Thrown inside the loop to ask for another (Range) attempt. */
class ResumeNeeded extends Error {}

function httpStatusOf(err: unknown): number | undefined {
  if (isMarketoError(err)) return err.status;
  return undefined;
}

/**
 * Streams an export file chunk by chunk. When the connection drops mid-file, asks again with
 * `Range: bytes={received}-{fileSize-1}` and carries on from the last byte received, never from zero. Hashes the bytes
 * (SHA-256) as they pass and, before it ends, checks the total against `fileSize` and the hash against
 * `fileChecksum`, throwing a typed error on a mismatch.
 */
export async function* downloadFile(options: DownloadFileOptions): AsyncGenerator<Uint8Array> {
  const { transport, path, signal, fileSize, fileChecksum, logger } = options;
  const hash = createHash("sha256");
  let received = 0;
  let failures = 0;
  // Consecutive 404s: a Completed job whose file keeps answering 404 is past Marketo's 7-day file retention.
  let notFound = 0;

  for (;;) {
    if (fileSize !== undefined && received >= fileSize) break;
    const headers: Record<string, string> = {};
    if (received > 0) headers["Range"] = `bytes=${received}-${fileSize !== undefined ? fileSize - 1 : ""}`;
    const before = received;
    let ended = false;
    try {
      let res: Response;
      try {
        res = await transport.raw({ method: "GET", api: "bulk", path, retry: "safe", signal, headers });
      } catch (err) {
        const status = httpStatusOf(err);
        if (status === 416) return truncated(options, received);
        // 404 right after Completed: the file is not served yet; try again shortly.
        if (status === 404) notFound++;
        if (status === 404 || (isMarketoError(err) && err.retryable)) throw new ResumeNeeded(String(err));
        throw err;
      }
      if (res.status === 416) {
        await res.body?.cancel();
        return truncated(options, received);
      }
      if (res.status === 404) {
        notFound++;
        await res.body?.cancel();
        throw new ResumeNeeded("file not ready (404)");
      }
      notFound = 0;
      if (res.status !== 200 && res.status !== 206) {
        const text = (await res.text()).slice(0, 200);
        throw new MarketoBulkDownloadError(`File download answered HTTP ${res.status}: ${text}`, {
          code: "BULK_DOWNLOAD",
          status: res.status,
          ...options.errorContext(),
        });
      }
      // A 200 to a Range request carries the whole file again: drop what we already have.
      let skip = 0;
      if (received > 0) {
        if (res.status === 206) {
          const m = CONTENT_RANGE.exec(res.headers.get("content-range") ?? "");
          if (!m || Number(m[1]) !== received) {
            await res.body?.cancel();
            throw new MarketoBulkDownloadError(
              `Range request from byte ${received} answered Content-Range "${res.headers.get("content-range")}"`,
              { code: "BULK_DOWNLOAD", status: 206, ...options.errorContext() },
            );
          }
        } else {
          skip = received;
        }
      }
      if (res.body) {
        for await (const raw of res.body as AsyncIterable<Uint8Array>) {
          let chunk = raw;
          if (skip > 0) {
            if (chunk.byteLength <= skip) {
              skip -= chunk.byteLength;
              continue;
            }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          if (fileSize !== undefined && received + chunk.byteLength > fileSize) {
            throw new MarketoChecksumError(`Export file is longer than the announced fileSize ${fileSize} bytes`, {
              code: "BULK_SIZE",
              expected: String(fileSize),
              actual: `> ${fileSize}`,
              ...options.errorContext(),
            });
          }
          hash.update(chunk);
          received += chunk.byteLength;
          options.onBytes(received);
          yield chunk;
        }
      }
      ended = true;
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      // Marketo errors were already judged by the transport; anything else while streaming is the connection.
      if (!(err instanceof ResumeNeeded) && isMarketoError(err)) throw err;
      logger.warn(
        { path, received, fileSize, err: String(err) },
        "bulk file download interrupted; resuming with Range",
      );
    }
    if (ended && (fileSize === undefined || received >= fileSize)) break;
    // The body ended early (clean close or dropped connection): ask for the rest.
    // A clean end that brought nothing new means the server has no more bytes to give.
    if (ended && received === before) return truncated(options, received);
    if (received > before) failures = 0;
    else failures++;
    if (failures > options.maxResumeAttempts && notFound >= failures) {
      throw new MarketoBulkDownloadError(
        `The file of completed job keeps answering 404: Marketo keeps export files 7 days, so it is gone; export its window again`,
        { code: "BULK_FILE_GONE", retryable: false, status: 404, ...options.errorContext() },
      );
    }
    if (failures > options.maxResumeAttempts) {
      throw new MarketoBulkDownloadError(
        `File download failed ${failures} times in a row at byte ${received}${fileSize !== undefined ? ` of ${fileSize}` : ""}`,
        { code: "BULK_DOWNLOAD", retryable: true, ...options.errorContext() },
      );
    }
    const base = options.resumeBaseDelayMs ?? 500;
    const delay = Math.min(options.resumeMaxDelayMs ?? 30_000, base * 2 ** failures) * (0.75 + 0.25 * options.random());
    await options.sleep(delay, signal);
  }

  if (fileSize !== undefined && received !== fileSize) return truncated(options, received);
  const actual = hash.digest("hex");
  // Marketo writes the checksum as "sha256:<hex>"; accept bare hex too.
  const expected = fileChecksum
    ?.trim()
    .toLowerCase()
    .replace(/^sha-?256:/, "");
  if (expected !== undefined && expected !== actual) {
    throw new MarketoChecksumError(
      `Export file SHA-256 ${actual} does not match fileChecksum ${fileChecksum}; rows already yielded came from this file`,
      { code: "BULK_CHECKSUM", expected, actual, ...options.errorContext() },
    );
  }
}

function truncated(options: DownloadFileOptions, received: number): never {
  throw new MarketoCsvError(
    `Export file is truncated: the server has no bytes after ${received}${options.fileSize !== undefined ? ` but announced ${options.fileSize}` : ""}`,
    { code: "BULK_TRUNCATED", ...options.errorContext() },
  );
}
