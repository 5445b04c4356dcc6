import type { CustomerSource, JsonValue, SourceItem, SourceRead } from "../ports.js";

/**
 * A {@link CustomerSource} over records held in memory (a file export, another system's dump, tests). Its checkpoint
 * is the count of items consumed, so a stopped run resumes after the last recorded batch; records added to the end
 * of the array later are read by the next run.
 *
 * @example
 * const source = arraySource(JSON.parse(await readFile("customers.json", "utf8")));
 */
export function arraySource(records: readonly unknown[]): CustomerSource {
  return {
    read(from, options = {}): SourceRead {
      const start = typeof from === "number" && from >= 0 ? from : 0;
      let position = start;
      return {
        checkpoint: (): JsonValue => position,
        async *[Symbol.asyncIterator](): AsyncIterator<SourceItem> {
          for (let i = start; i < records.length; i++) {
            options.signal?.throwIfAborted();
            position = i + 1;
            yield { type: "record", record: records[i] };
          }
        },
      };
    },
  };
}
