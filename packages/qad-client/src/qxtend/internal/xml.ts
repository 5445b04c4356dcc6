import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser";

/** A parsed XML element as fast-xml-parser gives it: child elements by local name, `#text`, `@_attributes`. */
export type XmlNode = Record<string, unknown>;

/** Characters XML 1.0 can carry at all; anything else cannot be escaped, only refused. */
const XML_ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** True when `value` can be written as XML 1.0 character data (after escaping). */
export function isXmlSafe(value: string): boolean {
  return !XML_ILLEGAL.test(value);
}

/**
 * The one XML builder configuration: attributes under `@_`, entity escaping of every text and attribute value
 * (`&`, `<`, `>`, `"`, `'`), no pretty-printing. User values only ever reach the wire through it.
 */
export function createXmlBuilder(): XMLBuilder {
  return new XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    suppressEmptyNode: false,
    processEntities: true,
    format: false,
  });
}

/**
 * The one XML parser configuration: namespace prefixes removed (peers use different prefixes for the same
 * namespace, so we match local names), values kept as strings exactly as sent, character references decoded.
 */
export function createXmlParser(): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: true,
    htmlEntities: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
  });
}

/** Well-formedness check before parsing (the parser itself is lenient and would accept an HTML page). */
export function isWellFormedXml(text: string): boolean {
  return XMLValidator.validate(text) === true;
}

/** Child elements of a node as [localName, value] pairs; repeated elements give one pair each, in order. */
export function* childElements(node: XmlNode): Generator<[string, unknown]> {
  for (const [name, value] of Object.entries(node)) {
    if (name === "#text" || name.startsWith("@_") || name === "xmlns") continue;
    if (Array.isArray(value)) for (const v of value) yield [name, v];
    else yield [name, value];
  }
}

/** True when the node has at least one child element. */
function hasChildElements(node: XmlNode): boolean {
  for (const _ of childElements(node)) return true;
  return false;
}

/**
 * Text of a leaf element: the string for a plain leaf, `#text` of a leaf with attributes, "" for an empty element,
 * undefined for xsi:nil and for elements that have child elements (not leaves).
 */
export function readText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const node = value as XmlNode;
  if (node["@_nil"] === "true" || node["@_nil"] === "1") return undefined;
  if (hasChildElements(node)) return undefined;
  const text = node["#text"];
  return typeof text === "string" ? text : text === undefined ? "" : String(text);
}

/** The first child element with this local name, if any. */
export function firstChild(node: XmlNode, localName: string): unknown {
  for (const [name, value] of childElements(node)) if (name === localName) return value;
  return undefined;
}

/** The first child element with this local name when it is an element node (object). */
export function firstChildNode(node: XmlNode, localName: string): XmlNode | undefined {
  const v = firstChild(node, localName);
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as XmlNode) : undefined;
}

/**
 * Every descendant element with this local name, in document order per parent, not descending into subtrees
 * named in `skip` nor into matches themselves.
 */
export function findAll(node: XmlNode, localName: string, skip: ReadonlySet<string> = new Set()): XmlNode[] {
  const out: XmlNode[] = [];
  const walk = (n: XmlNode): void => {
    for (const [name, value] of childElements(n)) {
      if (typeof value !== "object" || value === null) {
        if (name === localName && typeof value === "string") out.push({ "#text": value });
        continue;
      }
      if (name === localName) out.push(value as XmlNode);
      else if (!skip.has(name)) walk(value as XmlNode);
    }
  };
  walk(node);
  return out;
}
