/** Marketo's daily quota resets at 00:00 US Central; this gives the quota day of a timestamp. */

const formatter = new Intl.DateTimeFormat("en-CA", {
  timeZone: "America/Chicago",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});

/** The US Central calendar day (`YYYY-MM-DD`) of `ms`, the key Marketo's daily quota is counted under. */
export function quotaDay(ms: number): string {
  return formatter.format(new Date(ms));
}
