import { z } from "zod";
import type { MarketoReason } from "../records.js";

/** A successful Marketo envelope, as `Transport.request()` returns it. */
export interface Envelope<T> {
  /** Marketo's request id, for support tickets and logs. */
  requestId?: string;
  /** Always `true`: failed envelopes are thrown as errors. */
  success: true;
  /** The result array (empty when Marketo sent none). */
  result: T[];
  /** Warnings, normalised to strings (`"<code>: <message>"` when Marketo sent objects). */
  warnings: string[];
  /** More results can be fetched with `nextPageToken`. */
  moreResult?: boolean;
  /** Token for the next page. */
  nextPageToken?: string;
}

const code = z.union([z.string(), z.number()]).transform(String);
const reason = z.looseObject({ code, message: z.string().optional().default("") });
const warning = z.union([
  z.string(),
  z
    .looseObject({ code: code.optional(), message: z.string().optional() })
    .transform((w) =>
      w.code !== undefined ? `${w.code}: ${w.message ?? ""}`.trim() : (w.message ?? JSON.stringify(w)),
    ),
]);

/** Shape of any Marketo REST answer. Unknown members are kept; `result` items are validated by each resource. */
export const envelopeSchema = z.looseObject({
  requestId: z.string().optional(),
  success: z.boolean(),
  errors: z.array(reason).optional().default([]),
  warnings: z.array(warning).optional().default([]),
  result: z.array(z.unknown()).optional().default([]),
  moreResult: z.boolean().optional(),
  nextPageToken: z.string().optional(),
});

/** A parsed envelope, successful or not. */
export type RawEnvelope = z.infer<typeof envelopeSchema>;

/** The reasons of a failed envelope, as plain `{code, message}`. */
export function reasonsOf(env: RawEnvelope): MarketoReason[] {
  return env.errors.map((e) => ({ code: e.code, message: e.message }));
}

/** Converts a successful raw envelope to the public {@link Envelope}. */
export function toEnvelope<T>(env: RawEnvelope): Envelope<T> {
  const out: Envelope<T> = { success: true, result: env.result as T[], warnings: env.warnings };
  if (env.requestId !== undefined) out.requestId = env.requestId;
  if (env.moreResult !== undefined) out.moreResult = env.moreResult;
  if (env.nextPageToken !== undefined) out.nextPageToken = env.nextPageToken;
  return out;
}
