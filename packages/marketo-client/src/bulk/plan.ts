import { z } from "zod";
import { MarketoValidationError } from "../errors.js";
import type {
  ActivityExtractParams,
  ActivityTypeDescription,
  BulkExtractState,
  BulkFormat,
  BulkJobState,
  LeadExtractParams,
  LeadFieldDescription,
} from "./types.js";
import { splitWindows } from "./windows.js";

const FORMATS: readonly BulkFormat[] = ["CSV", "TSV", "SSV"];
const LEAD_FILTER_KEYS = ["createdAt", "updatedAt", "staticListId", "staticListName", "smartListId", "smartListName"];

function invalid(message: string): never {
  throw new MarketoValidationError(message, { issues: [message] });
}

function checkFormat(format: BulkFormat | undefined): BulkFormat {
  const f = format ?? "CSV";
  if (!FORMATS.includes(f)) invalid(`format must be one of ${FORMATS.join(", ")}, got ${String(format)}`);
  return f;
}

function checkFields(fields: readonly string[] | undefined): string[] | undefined {
  if (fields === undefined) return undefined;
  const list = [...new Set(fields.map((f) => f.trim()).filter((f) => f !== ""))];
  if (list.length === 0) invalid("fields must name at least one field");
  return list;
}

function newJob(filter: Record<string, unknown>): BulkJobState {
  return { filter, status: "pending", rowsDelivered: 0, bytesReceived: 0 };
}

/** Every exportable lead field: the REST names of the describe answer, in its order. Never a fixed list. */
export function leadFieldsFromDescribe(describe: readonly LeadFieldDescription[]): string[] {
  const names: string[] = [];
  for (const f of describe) if (f.rest?.name) names.push(f.rest.name);
  return [...new Set(names)];
}

/** The jobs of a leads extract: one per ≤ `maxDays` window for createdAt/updatedAt, one for a list filter. */
export async function planLeads(
  params: LeadExtractParams,
  maxDays: number,
  describe: (() => Promise<readonly LeadFieldDescription[]>) | undefined,
): Promise<BulkExtractState> {
  const format = checkFormat(params.format);
  const keys = Object.keys(params.filter ?? {});
  if (keys.length !== 1 || !LEAD_FILTER_KEYS.includes(keys[0] as string)) {
    invalid(`filter must have exactly one of ${LEAD_FILTER_KEYS.join(", ")}; got ${keys.join(", ") || "none"}`);
  }
  let fields = checkFields(params.fields);
  if (fields === undefined) {
    if (!describe) invalid("fields are required when no lead describe is available");
    fields = leadFieldsFromDescribe(await describe());
    if (fields.length === 0) invalid("the leads describe returned no field with a REST name");
  }
  const filter = params.filter as Record<string, unknown>;
  const key = keys[0] as string;
  let jobs: BulkJobState[];
  if (key === "createdAt" || key === "updatedAt") {
    const range = filter[key] as { startAt: Date | string; endAt: Date | string };
    jobs = splitWindows(range, maxDays).map((w) => newJob({ [key]: w }));
  } else {
    jobs = [newJob({ [key]: filter[key] })];
  }
  return {
    version: 1,
    object: "leads",
    fields,
    format,
    columnHeaderNames: params.columnHeaderNames,
    jobs,
    rowsDelivered: 0,
    warnings: [],
  };
}

/** The jobs of an activities extract: one per ≤ `maxDays` createdAt window, activity types resolved by name. */
export async function planActivities(
  params: ActivityExtractParams,
  maxDays: number,
  describeTypes: (() => Promise<readonly ActivityTypeDescription[]>) | undefined,
): Promise<BulkExtractState> {
  const format = checkFormat(params.format);
  if (!params.filter?.createdAt) invalid("filter.createdAt is required for an activities extract");
  const fields = checkFields(params.fields);
  const typeIds = new Set<number>(params.filter.activityTypeIds ?? []);
  if (params.activityTypes && params.activityTypes.length > 0) {
    if (!describeTypes) invalid("activityTypes (names) need the activity types describe; pass activityTypeIds instead");
    const byName = new Map((await describeTypes()).map((t) => [t.name.toLowerCase(), t.id]));
    for (const name of params.activityTypes) {
      const id = byName.get(name.toLowerCase());
      if (id === undefined) invalid(`unknown activity type "${name}"`);
      typeIds.add(id);
    }
  }
  for (const [k, list] of [
    ["primaryAttributeValueIds", params.filter.primaryAttributeValueIds],
    ["primaryAttributeValues", params.filter.primaryAttributeValues],
  ] as const) {
    if (list && list.length > 50) invalid(`${k} accepts at most 50 values, got ${list.length}`);
  }
  const extra: Record<string, unknown> = {};
  if (typeIds.size > 0) extra["activityTypeIds"] = [...typeIds];
  if (params.filter.primaryAttributeValueIds?.length)
    extra["primaryAttributeValueIds"] = [...params.filter.primaryAttributeValueIds];
  if (params.filter.primaryAttributeValues?.length)
    extra["primaryAttributeValues"] = [...params.filter.primaryAttributeValues];
  const jobs = splitWindows(params.filter.createdAt, maxDays).map((w) => newJob({ createdAt: w, ...extra }));
  return {
    version: 1,
    object: "activities",
    fields,
    format,
    columnHeaderNames: params.columnHeaderNames,
    jobs,
    rowsDelivered: 0,
    warnings: [],
  };
}

const jobStateSchema = z.object({
  filter: z.record(z.string(), z.unknown()),
  exportId: z.string().min(1).optional(),
  status: z.enum(["pending", "created", "enqueued", "completed", "done"]),
  rowsDelivered: z.number().int().nonnegative(),
  bytesReceived: z.number().int().nonnegative(),
  fileSize: z.number().int().nonnegative().optional(),
  fileChecksum: z.string().optional(),
});

const stateSchema = z.object({
  version: z.literal(1),
  object: z.enum(["leads", "activities"]),
  fields: z.array(z.string().min(1)).min(1).optional(),
  format: z.enum(["CSV", "TSV", "SSV"]),
  columnHeaderNames: z.record(z.string(), z.string()).optional(),
  jobs: z.array(jobStateSchema).min(1),
  rowsDelivered: z.number().int().nonnegative(),
  warnings: z.array(z.string()),
});

/** Validates a state handed back for a resume (it may come from a file), so a mangled one fails before any call. */
export function checkResumeState(state: unknown, object: "leads" | "activities"): BulkExtractState {
  const parsed = stateSchema.safeParse(state);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "state"}: ${i.message}`);
    throw new MarketoValidationError(`resumeFrom is not a valid bulk extract state: ${issues.join("; ")}`, { issues });
  }
  if (parsed.data.object !== object) {
    invalid(`resumeFrom is the state of a ${parsed.data.object} extract, not ${object}`);
  }
  for (const job of parsed.data.jobs) {
    if (job.status !== "pending" && job.exportId === undefined)
      invalid(`a ${job.status} job in resumeFrom has no exportId`);
  }
  return structuredClone(parsed.data) as BulkExtractState;
}
