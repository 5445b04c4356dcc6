// A process sharing a SQLite limiter file, for test/sqlite-limiter-store.test.ts. Run with `--import tsx`, the file's
// path as the first argument and an IPC channel. Protocol: → { ready: true } once the store is open; on
// { op: "reserve", key, count, now, day, limits } it makes `count` reservations one after another (each awaited) and
// answers { granted: slotIds, refused: { [reason]: n } }
// (or { error } when the store threw); on { op: "close" } it closes the store and exits 0.
import type { ReserveLimits } from "@ml/marketo-client";
import { createSqliteLimiterStore } from "../src/sqlite/index.js";

interface ReserveCommand {
  op: "reserve";
  key: string;
  count: number;
  now: number;
  day: string;
  limits: ReserveLimits;
}

const store = createSqliteLimiterStore({ path: process.argv[2]! });
const send = (m: unknown) => process.send?.(m);

process.on("message", async (m: ReserveCommand | { op: "close" }) => {
  if (m.op === "close") {
    store.close();
    process.exit(0);
  }
  const granted: string[] = [];
  const refused: Record<string, number> = {};
  try {
    for (let i = 0; i < m.count; i++) {
      const r = await store.reserve(m.key, m.now, m.day, m.limits);
      if (r.granted) granted.push(r.slotId);
      else refused[r.reason] = (refused[r.reason] ?? 0) + 1;
    }
    send({ granted, refused });
  } catch (e) {
    send({ error: e instanceof Error ? e.message : String(e) });
  }
});
send({ ready: true });
