/**
 * The simulated systems' side of the example's saved state: a snapshot of the Marketo simulator's records (ids and
 * marketoGUIDs kept) and the settings the QAD simulator was started with (seed, size, start instant), so a new
 * process talks to the same two systems the last one left behind.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { MarketoSimulator, SimActivity, SimActivitySeed } from "@ml/marketo-client/testing";
import { z } from "zod";

/** Object types kept in the snapshot (everything the sync writes or reads back). */
const OBJECTS = ["companies", "namedAccounts", "leads", "salesPersons", "opportunities", "opportunityRoles"] as const;

const recordList = z.array(z.record(z.string(), z.unknown()));
const activity = z.object({
  id: z.number().int().positive(),
  leadId: z.number().int(),
  activityTypeId: z.number().int(),
  activityDate: z.string(),
  primaryAttributeValueId: z.number().optional(),
  primaryAttributeValue: z.string().optional(),
  attributes: z.array(z.object({ name: z.string(), value: z.unknown() })).default([]),
  fields: z
    .array(
      z.object({
        id: z.number().optional(),
        name: z.string(),
        newValue: z.string().nullable(),
        oldValue: z.string().nullable(),
      }),
    )
    .optional(),
});

const snapshotSchema = z.object({
  version: z.literal(1),
  /** The store's latest run when the snapshot was written: a mismatch means a run ended without saving it. */
  afterRun: z.string().optional(),
  savedAt: z.string(),
  qad: z.object({ seed: z.number().int(), customers: z.number().int().positive(), startAt: z.number() }),
  marketo: z.object({
    companies: recordList,
    namedAccounts: recordList,
    leads: recordList,
    salesPersons: recordList,
    opportunities: recordList,
    opportunityRoles: recordList,
    activities: z.array(activity),
  }),
});

/** What the state folder keeps of the simulated systems. */
export type SimSnapshot = z.infer<typeof snapshotSchema>;

/** How the QAD simulator was started: the same values give the same customers with the same stamps. */
export type QadSimSetup = SimSnapshot["qad"];

/** Thrown when the snapshot file exists but cannot be used. */
export class SnapshotError extends Error {
  override name = "SnapshotError";
}

/** Reads the snapshot file; `undefined` when there is none. */
export function readSnapshot(file: string): SimSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SnapshotError(`${file} is not valid JSON`);
  }
  const parsed = snapshotSchema.safeParse(json);
  if (!parsed.success)
    throw new SnapshotError(`${file} is not a simulator snapshot: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Captures the Marketo simulator's records and the QAD simulator's setup. */
export function takeSnapshot(mkSim: MarketoSimulator, qad: QadSimSetup, afterRun: string | undefined): SimSnapshot {
  // Each object's typed records, kept as the snapshot's plain JSON records.
  const records = (o: (typeof OBJECTS)[number]): Record<string, unknown>[] => mkSim.data[o].all();
  const marketo = Object.fromEntries(OBJECTS.map((o) => [o, records(o)])) as Omit<SimSnapshot["marketo"], "activities">;
  return {
    version: 1,
    ...(afterRun !== undefined ? { afterRun } : {}),
    savedAt: new Date().toISOString(),
    qad,
    marketo: { ...marketo, activities: mkSim.data.activities.all() as SimSnapshot["marketo"]["activities"] },
  };
}

/** Writes the snapshot atomically (a temporary file renamed over the old one), so a crash never leaves half a file. */
export function writeSnapshot(file: string, snapshot: SimSnapshot): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(snapshot));
  renameSync(tmp, file);
}

/**
 * Seeds a freshly started (empty) Marketo simulator from a snapshot. Records keep their ids and marketoGUIDs, and
 * later creates are numbered after them. Activities are re-added in id order with their dates: the simulator
 * numbers activities 1, 2, 3 ... and never deletes one, so they get their ids back, and a paging token saved by the
 * engine (date and id of the last activity read) points at the same place in the log. Anything else is an error.
 */
export function restoreMarketo(mkSim: MarketoSimulator, snapshot: SimSnapshot): void {
  for (const o of OBJECTS) {
    if (mkSim.data[o].count() > 0) throw new SnapshotError(`the Marketo simulator already holds ${o}`);
    mkSim.data[o].seed(snapshot.marketo[o]);
  }
  const acts = [...snapshot.marketo.activities].sort((a, b) => a.id - b.id);
  const seeds: SimActivitySeed[] = acts.map((a) => ({
    leadId: a.leadId,
    activityTypeId: a.activityTypeId,
    activityDate: a.activityDate,
    attributes: a.attributes,
    ...(a.primaryAttributeValueId !== undefined ? { primaryAttributeValueId: a.primaryAttributeValueId } : {}),
    ...(a.primaryAttributeValue !== undefined ? { primaryAttributeValue: a.primaryAttributeValue } : {}),
    ...(a.fields ? { fields: a.fields } : {}),
  }));
  const stored = mkSim.data.activities.seed(seeds);
  const moved = stored.findIndex((s, i) => s.id !== acts[i]!.id);
  if (moved >= 0) {
    throw new SnapshotError(
      `activity ${acts[moved]!.id} came back as ${stored[moved]!.id}: the activity log cannot be restored with its ids`,
    );
  }
}

/** The latest activity date in the simulator (ms), or `undefined` when it has none. */
export function latestActivityAt(activities: readonly SimActivity[]): number | undefined {
  let latest: number | undefined;
  for (const a of activities) {
    const t = Date.parse(a.activityDate);
    if (latest === undefined || t > latest) latest = t;
  }
  return latest;
}
