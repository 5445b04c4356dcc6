/** Source data with every awkward value Marketo files are known for. */
import type { SimActivity } from "../../../src/testing/context.js";

export const LEAD_FIELDS = [
  { name: "id", dataType: "integer" },
  { name: "email", dataType: "email" },
  { name: "firstName", dataType: "string" },
  { name: "lastName", dataType: "string" },
  { name: "company", dataType: "string" },
  { name: "notes", dataType: "text" },
  { name: "createdAt", dataType: "datetime" },
  { name: "updatedAt", dataType: "datetime" },
];

const AWKWARD = [
  'multi-line\nquoted, with "quotes" and commas',
  "windows\r\nline break",
  "line\u2028separator and paragraph\u2029separator",
  null,
  "tab\tand space separated",
  "ünïcödé ✓ 漢字 😀",
  "",
  "trailing space ",
];

/** `n` leads created one per `stepHours` from `start`, with awkward values sprinkled in. */
export function makeLeads(n: number, start = Date.UTC(2026, 0, 1), stepHours = 12): Record<string, unknown>[] {
  const leads: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const created = new Date(start + i * stepHours * 3_600_000).toISOString();
    leads.push({
      id: String(i + 1),
      email: `lead${i}@example.com`,
      firstName: i % 5 === 0 ? null : `First ${i}`,
      lastName: `Last, ${i}`,
      company: i % 7 === 3 ? AWKWARD[i % AWKWARD.length] : `Company ${i % 10}`,
      notes: AWKWARD[i % AWKWARD.length],
      createdAt: created,
      updatedAt: new Date(Date.parse(created) + 3_600_000).toISOString(),
    });
  }
  return leads;
}

/** What a lead looks like after a round trip: every value a string or null. */
export function asRow(
  lead: Record<string, unknown>,
  fields = LEAD_FIELDS.map((f) => f.name),
): Record<string, string | null> {
  const row: Record<string, string | null> = {};
  for (const f of fields) {
    const v = lead[f];
    row[f] = v === null || v === undefined ? null : String(v);
  }
  return row;
}

export function makeActivities(n: number, start = Date.UTC(2026, 0, 1), stepHours = 6): SimActivity[] {
  const out: SimActivity[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      id: i + 1,
      marketoGUID: `act-${i + 1}`,
      leadId: (i % 20) + 1,
      activityDate: new Date(start + i * stepHours * 3_600_000).toISOString(),
      activityTypeId: i % 3 === 0 ? 1 : 12,
      primaryAttributeValueId: 100 + (i % 4),
      primaryAttributeValue: i % 2 === 0 ? 'Home Page, "v2"' : "line\nbreak",
      attributes: [
        { name: "Client IP Address", value: `10.0.0.${i % 255}` },
        { name: "Query Parameters", value: i % 4 === 0 ? null : "a=1&b=2" },
      ],
    });
  }
  return out;
}
