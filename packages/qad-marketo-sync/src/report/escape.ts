/**
 * Escaping for the report page. Everything shown comes from QAD, Marketo or the store and is hostile until escaped:
 * text is made visible first (control and bidi characters written as `\u{XXXX}`, so a right-to-left override cannot
 * disguise a key), cut to a sane length, then HTML-escaped for text and for quoted attribute values alike. `:` is
 * escaped too, so no `javascript:` or `https:` ever appears in the markup as written (the page holds no links, and a
 * URL inside a customer name stays text).
 *
 * @module
 */

import { visibleText } from "../text/sanitise.js";

const HTML_SPECIAL = /[&<>"'`:=]/g;
const ENTITY: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
  ":": "&#58;",
  "=": "&#61;",
};

/** Longest text shown for one store value; longer ones are cut with an ellipsis. */
export const MAX_TEXT = 240;

/**
 * One value as HTML-escaped text, safe inside an element and inside a double- or single-quoted attribute.
 *
 * @example
 * escapeHtml('"><img src=x onerror=alert(1)>') // "&quot;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;"
 */
export function escapeHtml(value: unknown, max = MAX_TEXT): string {
  let text = visibleText(value === undefined || value === null ? "" : String(value));
  if (text.length > max)
    text = `${Array.from(text)
      .slice(0, max - 1)
      .join("")}…`;
  return text.replace(HTML_SPECIAL, (ch) => ENTITY[ch] ?? ch);
}
