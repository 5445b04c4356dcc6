import { QadConfigError } from "../errors.js";
import { createXmlBuilder, isXmlSafe } from "./internal/xml.js";

/** SOAP 1.1 envelope namespace. */
export const SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/";
/** WS-Addressing namespace used by QXtend. */
export const WSA_NS = "http://www.w3.org/2005/08/addressing";
/** QXtend service namespace (default namespace of the request body). */
export const QDOC_NS = "urn:schemas-qad-com:xml-services";
/** QXtend common namespace (prefix `qcom`): session context. */
export const QCOM_NS = "urn:schemas-qad-com:xml-services:common";

/** One `qcom:ttContext` entry; `propertyQualifier` is always `QAD`. */
export interface QxtendContextEntry {
  /** Property name, e.g. `domain`, `version`, `username`. */
  name: string;
  /** Property value. */
  value: string;
}

/** Everything one Query Service request carries. */
export interface QxtendQueryRequest {
  /** Receiver; `wsa:To` becomes `urn:services-qad-com:<receiver>`. */
  receiver: string;
  /** `wsa:MessageID` (a `urn:uuid:` URI). */
  messageId: string;
  /** `wsa:ReplyTo/wsa:Address`. */
  replyTo: string;
  /** Session context entries, in order. */
  context: readonly QxtendContextEntry[];
  /** Profile name; the body element is `query<profile>`. Must be a plain XML name (validated in options). */
  profile: string;
  /** Query Service SourceApplication. */
  sourceApplication: string;
  /** Filter expression (may be empty). */
  filter: string;
  /** MaxRows. */
  maxRows: number;
  /** IgnoreBOFilter. */
  ignoreBOFilter: boolean;
  /** IgnoreBOInnerJoin. */
  ignoreBOInnerJoin: boolean;
}

function checked(value: string, what: string): string {
  if (!isXmlSafe(value)) throw new QadConfigError(`${what} contains a character XML cannot carry`);
  return value;
}

/**
 * Builds the SOAP 1.1 Query Service envelope with WS-Addressing headers and the session context. Built with
 * fast-xml-parser's XMLBuilder, which escapes every value; values XML cannot carry at all (NUL, lone surrogates)
 * are refused with {@link QadConfigError} rather than silently dropped. Context values are named, never echoed,
 * so a password never reaches an error message.
 */
export function buildQueryEnvelope(req: QxtendQueryRequest): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(req.profile)) {
    throw new QadConfigError("QXtend profile must be a plain XML name");
  }
  const ttContext = req.context.map((e) => ({
    "qcom:propertyQualifier": "QAD",
    "qcom:propertyName": checked(e.name, "Session context property name"),
    "qcom:propertyValue": checked(e.value, `Session context property ${JSON.stringify(e.name)}`),
  }));
  const doc = {
    "soapenv:Envelope": {
      "@_xmlns:soapenv": SOAP_ENV_NS,
      "@_xmlns:qcom": QCOM_NS,
      "@_xmlns:wsa": WSA_NS,
      "soapenv:Header": {
        "wsa:Action": "",
        "wsa:To": `urn:services-qad-com:${checked(req.receiver, "Receiver")}`,
        "wsa:MessageID": checked(req.messageId, "MessageID"),
        "wsa:ReplyTo": { "wsa:Address": checked(req.replyTo, "ReplyTo address") },
      },
      "soapenv:Body": {
        [`query${req.profile}`]: {
          "@_xmlns": QDOC_NS,
          "qcom:dsSessionContext": { "qcom:ttContext": ttContext },
          dsQueryServiceRequest: {
            QueryServiceRequest: {
              SourceApplication: checked(req.sourceApplication, "SourceApplication"),
              Profile: req.profile,
              Filter: checked(req.filter, "Filter"),
              MaxRows: String(req.maxRows),
              IgnoreBOFilter: String(req.ignoreBOFilter),
              IgnoreBOInnerJoin: String(req.ignoreBOInnerJoin),
            },
          },
        },
      },
    },
  };
  return `<?xml version="1.0" encoding="UTF-8"?>${createXmlBuilder().build(doc) as string}`;
}
