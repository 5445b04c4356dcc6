import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { downloadFile } from "../../src/bulk/download.js";
import { type BulkTransport, MarketoBulkDownloadError, MarketoChecksumError } from "../../src/bulk/index.js";
import { MarketoHttpError } from "../../src/errors.js";

const file = Buffer.from("id,text\n" + Array.from({ length: 200 }, (_, i) => `${i},value ${i}\n`).join(""));
const sha = createHash("sha256").update(file).digest("hex");

/** A body that sends `bytes` and then fails like a dropped socket. */
function dropping(bytes: Buffer): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(c) {
      if (!sent) {
        sent = true;
        c.enqueue(new Uint8Array(bytes));
      } else c.error(new TypeError("terminated"));
    },
  });
}

type Step = (range: string | undefined) => Response | Promise<Response>;

function scripted(steps: Step[]) {
  const ranges: (string | undefined)[] = [];
  const transport: BulkTransport = {
    request: async () => ({}),
    raw: async (req) => {
      const range = req.headers?.["Range"];
      ranges.push(range);
      const step = steps.shift();
      if (!step) throw new Error("no more steps");
      return step(range);
    },
  };
  return { transport, ranges };
}

async function download(transport: BulkTransport, extra: Partial<Parameters<typeof downloadFile>[0]> = {}) {
  const parts: Uint8Array[] = [];
  for await (const c of downloadFile({
    transport,
    path: "/v1/leads/export/x/file.json",
    fileSize: file.length,
    fileChecksum: sha,
    maxResumeAttempts: 3,
    sleep: async () => {},
    random: () => 0.5,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    onBytes: () => {},
    errorContext: () => ({ exportId: "x" }),
    ...extra,
  }))
    parts.push(c);
  return Buffer.concat(parts);
}

describe("resumable download", () => {
  it("asks for the rest with Range after a drop and verifies the whole file", async () => {
    const { transport, ranges } = scripted([
      () => new Response(dropping(file.subarray(0, 1000)), { status: 200 }),
      (range) => {
        const from = Number(/bytes=(\d+)-/.exec(range ?? "")?.[1]);
        return new Response(file.subarray(from), {
          status: 206,
          headers: { "content-range": `bytes ${from}-${file.length - 1}/${file.length}` },
        });
      },
    ]);
    expect((await download(transport)).equals(file)).toBe(true);
    expect(ranges).toEqual([undefined, `bytes=1000-${file.length - 1}`]);
  });

  it("drops the repeated prefix when the server answers a Range request with the whole file (200)", async () => {
    const { transport, ranges } = scripted([
      () => new Response(dropping(file.subarray(0, 700)), { status: 200 }),
      () => new Response(file, { status: 200 }),
    ]);
    expect((await download(transport)).equals(file)).toBe(true);
    expect(ranges[1]).toBe(`bytes=700-${file.length - 1}`);
  });

  it("rejects a 206 whose Content-Range starts elsewhere", async () => {
    const { transport } = scripted([
      () => new Response(dropping(file.subarray(0, 700)), { status: 200 }),
      () =>
        new Response(file.subarray(0), {
          status: 206,
          headers: { "content-range": `bytes 0-${file.length - 1}/${file.length}` },
        }),
    ]);
    await expect(download(transport)).rejects.toBeInstanceOf(MarketoBulkDownloadError);
  });

  it("waits and retries when the file answers 404 (not ready yet)", async () => {
    const { transport } = scripted([
      () => {
        throw new MarketoHttpError("HTTP 404", { code: "HTTP_404", status: 404 });
      },
      () => new Response(file, { status: 200 }),
    ]);
    expect((await download(transport)).equals(file)).toBe(true);
  });

  it("accepts Marketo's sha256:<hex> checksum form as well as bare hex", async () => {
    for (const checksum of [`sha256:${sha}`, sha.toUpperCase(), `SHA256:${sha}`]) {
      const { transport } = scripted([() => new Response(file, { status: 200 })]);
      expect((await download(transport, { fileChecksum: checksum })).equals(file)).toBe(true);
    }
  });

  it("hashes incrementally and reports a checksum mismatch", async () => {
    const { transport } = scripted([() => new Response(file, { status: 200 })]);
    await expect(download(transport, { fileChecksum: `sha256:${"0".repeat(64)}` })).rejects.toBeInstanceOf(
      MarketoChecksumError,
    );
  });

  it("reports a file longer than fileSize as a size error", async () => {
    const { transport } = scripted([() => new Response(Buffer.concat([file, Buffer.from("x\n")]), { status: 200 })]);
    await expect(download(transport)).rejects.toMatchObject({ code: "BULK_SIZE" });
  });

  it("stops after maxResumeAttempts drops without progress", async () => {
    const steps: Step[] = [() => new Response(dropping(file.subarray(0, 10)), { status: 200 })];
    for (let i = 0; i < 10; i++)
      steps.push(
        () =>
          new Response(dropping(Buffer.alloc(0)), {
            status: 206,
            headers: { "content-range": `bytes 10-${file.length - 1}/${file.length}` },
          }),
      );
    const { transport, ranges } = scripted(steps);
    await expect(download(transport)).rejects.toMatchObject({ code: "BULK_DOWNLOAD", retryable: true });
    expect(ranges.length).toBe(1 + 4); // first try, then 3 allowed failures + the one that gives up
  });
});
