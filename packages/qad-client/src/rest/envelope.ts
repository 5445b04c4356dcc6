import {
  QadAuthError,
  type QadEnvelopeError,
  QadHttpError,
  QadPermissionError,
  type QadRequestInfo,
  QadSubmitError,
  type QadSubmitFieldError,
} from "../errors.js";

function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

/**
 * Reads QAD's two error envelopes out of a parsed JSON body and throws the matching typed error:
 * `{"submitResult":{"success":false,"errors":[{fieldName,message}]}}` (HTTP 200) → {@link QadSubmitError};
 * `{"errors":[{severity,code,message}]}` → {@link QadPermissionError} (code 403), {@link QadAuthError} (code 401)
 * or {@link QadHttpError}. Returns the body unchanged when it is neither.
 * @internal
 */
export function checkEnvelope(
  body: unknown,
  ctx: { status: number; request: QadRequestInfo; requestId?: string },
): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const b = body as Record<string, unknown>;
  const base = { status: ctx.status, request: ctx.request, ...(ctx.requestId ? { requestId: ctx.requestId } : {}) };
  const submit = b.submitResult;
  if (typeof submit === "object" && submit !== null) {
    const s = submit as Record<string, unknown>;
    if (s.success === false || s.success === "false") {
      const errors: QadSubmitFieldError[] = Array.isArray(s.errors)
        ? s.errors.map((e) => {
            const r = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
            const fieldName = str(r.fieldName);
            return { ...(fieldName ? { fieldName } : {}), message: str(r.message) ?? "unknown error" };
          })
        : [];
      throw new QadSubmitError(errors, base);
    }
  }
  // A bare errors[] envelope; only when there is no data, since some answers carry warnings next to data.
  if (Array.isArray(b.errors) && b.errors.length > 0 && b.data === undefined) {
    const errors: QadEnvelopeError[] = b.errors.map((e) => {
      const r = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
      const severity =
        typeof r.severity === "number"
          ? r.severity
          : Number.isFinite(Number(r.severity))
            ? Number(r.severity)
            : undefined;
      const code = str(r.code);
      return {
        ...(severity !== undefined ? { severity } : {}),
        ...(code !== undefined ? { code } : {}),
        message: str(r.message) ?? "unknown error",
      };
    });
    const first = errors[0]!;
    const codeNum = Number(first.code);
    if (codeNum === 403)
      throw new QadPermissionError(`QAD denied access: ${first.message}`, errors, { ...base, status: 403 });
    if (codeNum === 401) throw new QadAuthError(`QAD session rejected: ${first.message}`, { ...base, status: 401 });
    const status = Number.isInteger(codeNum) && codeNum >= 400 && codeNum < 600 ? codeNum : ctx.status;
    throw new QadHttpError(`QAD returned errors: ${first.message}`, {
      ...base,
      status,
      errors,
      retryable: status >= 500 || status === 408 || status === 429,
    });
  }
  return body;
}
