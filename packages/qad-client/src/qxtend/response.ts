import { redactedSnippet } from "@ml/http-kernel";
import { type QadQxtendMessage, type QadRequestInfo, QadResponseParseError, QadSoapFaultError } from "../errors.js";
import {
  childElements,
  createXmlParser,
  findAll,
  firstChild,
  firstChildNode,
  isWellFormedXml,
  readText,
  type XmlNode,
} from "./internal/xml.js";

/** A parsed Query Service answer that was not a SOAP Fault. */
export interface QxtendQueryResponse {
  /** `result`, lower-cased: `success`, `warning` or `error` (another value is kept as sent). */
  result: string;
  /** `dsExceptions/temp_err_msg` rows. */
  messages: QadQxtendMessage[];
  /** Result rows of the profile dataset (elements named `rowElement`), in document order. */
  rows: XmlNode[];
}

/** A SOAP 1.1 Fault, as parsed. */
export interface QxtendFault {
  /** faultcode, e.g. `soapenv:Client`. */
  faultcode: string;
  /** faultstring. */
  faultstring: string;
  /** detail as text, when any. */
  detail?: string;
}

/** How to read an answer. @internal */
export interface ParseSettings {
  /** Local name of one result row. */
  rowElement: string;
  /** Removes secrets from any text that ends up in an error. */
  redact: (text: string) => string;
  /** Decides whether a fault is transient (worth a retry). */
  isTransientFault: (fault: QxtendFault) => boolean;
  /** Content-Type of the answer, for error context. */
  contentType?: string;
  /** HTTP status, for error context. */
  status?: number;
  /** Redacted request description, for error context. */
  request?: QadRequestInfo;
  /** Request id (our wsa:MessageID), for error context. */
  requestId?: string;
}

const NOT_ROWS = new Set(["dsSessionContext", "dsExceptions", "Header"]);

function text(node: XmlNode, name: string): string | undefined {
  return readText(firstChild(node, name));
}

function flattenText(value: unknown): string | undefined {
  const t = readText(value);
  if (t !== undefined) return t;
  if (typeof value !== "object" || value === null) return undefined;
  const parts: string[] = [];
  for (const [, v] of childElements(value as XmlNode)) {
    const inner = flattenText(v);
    if (inner) parts.push(inner);
  }
  return parts.join(" ");
}

/** Maps one `temp_err_msg` row. */
export function parseQxtendMessage(row: XmlNode): QadQxtendMessage {
  const nbr = text(row, "tt_msg_nbr");
  const n = nbr === undefined || nbr.trim() === "" ? undefined : Number(nbr);
  const msg: QadQxtendMessage = { description: text(row, "tt_msg_desc") ?? "" };
  if (n !== undefined && Number.isFinite(n)) msg.number = n;
  const optionalFields = [
    ["severity", "tt_msg_sev"],
    ["field", "tt_msg_field"],
    ["data", "tt_msg_data"],
    ["keys", "tt_msg_keys"],
  ] as const;
  for (const [key, element] of optionalFields) {
    const v = text(row, element);
    if (v !== undefined && v !== "") msg[key] = v;
  }
  return msg;
}

/**
 * Parses a QXtend answer defensively: any namespace prefixes (matched by local name), one row or many, rows nested
 * at any depth of the profile dataset. A SOAP Fault throws {@link QadSoapFaultError}; a body that is not a SOAP
 * envelope (an HTML error page, a proxy message) throws {@link QadResponseParseError}. `result=error` is returned,
 * not thrown: the caller decides (it may be transient).
 */
export function parseQueryResponse(body: string, s: ParseSettings): QxtendQueryResponse {
  const snippet = () => redactedSnippet(s.redact, body, 500);
  const context = {
    bodySnippet: snippet(),
    ...(s.contentType === undefined ? {} : { contentType: s.contentType }),
    ...(s.status === undefined ? {} : { status: s.status }),
    ...(s.request === undefined ? {} : { request: s.request }),
    ...(s.requestId === undefined ? {} : { requestId: s.requestId }),
  };
  const trimmed = body.trimStart();
  if (!trimmed.startsWith("<") || /^<(!doctype\s+html|html)/i.test(trimmed)) {
    throw new QadResponseParseError("QXtend answered with something other than XML (an HTML page?)", context);
  }
  if (!isWellFormedXml(body)) throw new QadResponseParseError("QXtend answer is not well-formed XML", context);
  let doc: XmlNode;
  try {
    doc = createXmlParser().parse(body) as XmlNode;
  } catch (cause) {
    throw new QadResponseParseError("QXtend answer could not be parsed", { ...context, cause });
  }
  const envelope = firstChildNode(doc, "Envelope");
  if (!envelope || firstChild(envelope, "Body") === undefined) {
    throw new QadResponseParseError("QXtend answer is not a SOAP envelope (no Envelope/Body)", context);
  }
  const soapBody = firstChildNode(envelope, "Body") ?? {};

  const faultNode = firstChildNode(soapBody, "Fault");
  if (faultNode) {
    const fault: QxtendFault = {
      faultcode: s.redact(text(faultNode, "faultcode") ?? "").trim() || "Server",
      faultstring: s.redact(text(faultNode, "faultstring") ?? "").trim(),
    };
    const detail = flattenText(firstChild(faultNode, "detail"));
    if (detail) fault.detail = s.redact(detail).slice(0, 1000);
    const error = new QadSoapFaultError(fault.faultcode, fault.faultstring, {
      retryable: s.isTransientFault(fault),
      ...(s.status === undefined ? {} : { status: s.status }),
      ...(s.request === undefined ? {} : { request: s.request }),
      ...(s.requestId === undefined ? {} : { requestId: s.requestId }),
      ...(fault.detail === undefined ? {} : { detail: fault.detail }),
    });
    throw error;
  }

  let response: XmlNode | undefined;
  for (const [, value] of childElements(soapBody)) {
    if (typeof value === "object" && value !== null) {
      response = value as XmlNode;
      break;
    }
  }
  if (!response) throw new QadResponseParseError("QXtend answer has an empty SOAP Body", context);

  const messages: QadQxtendMessage[] = [];
  for (const exceptions of findAll(response, "dsExceptions", new Set(["dsSessionContext"]))) {
    for (const row of findAll(exceptions, "temp_err_msg")) messages.push(parseQxtendMessage(row));
  }
  for (const m of messages) {
    m.description = s.redact(m.description);
    if (m.data !== undefined) m.data = s.redact(m.data);
  }
  const resultNode = findAll(response, "result", NOT_ROWS)[0];
  let result = resultNode === undefined ? undefined : readText(resultNode)?.trim().toLowerCase();
  if (!result) {
    // No result element: infer it from the exception rows rather than guess success.
    const sev = messages.map((m) => (m.severity ?? "error").toLowerCase());
    result = sev.some((v) => /err|fatal/.test(v)) ? "error" : messages.length > 0 ? "warning" : "success";
  }
  const rows = findAll(response, s.rowElement, NOT_ROWS);
  return { result, messages, rows };
}
