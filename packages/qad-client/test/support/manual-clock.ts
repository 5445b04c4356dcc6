/** A clock the test moves by hand. */
export function manualClock(start = Date.parse("2026-03-02T09:00:00Z")) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}
