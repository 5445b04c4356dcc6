/**
 * Text sent to Marketo. QAD rows (and exports from other systems) can hold bytes no Marketo field should store: NUL
 * and other C0/C1 control characters, lone UTF-16 surrogates (invalid Unicode, which JSON encoders turn into
 * replacement characters or refuse), and bidirectional overrides that make a name read differently from what it is
 * ("Trojan Source"). The mapping passes every mapped string through {@link sanitiseText}:
 *
 * - control characters other than tab, line feed and carriage return are removed (U+0000–U+0008, U+000B, U+000C,
 *   U+000E–U+001F, U+007F–U+009F);
 * - bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are removed;
 * - a lone surrogate becomes U+FFFD (the replacement character).
 *
 * Field values are cleaned, not rejected, and the audit row of the written record carries a `sanitised` note naming
 * the field and what was removed. Keys are never cleaned: a key holding such a character is rejected
 * ({@link unsafeTextIn}), because cleaning it could make two records share one Marketo company.
 *
 * @module
 */

/** Control characters (except tab, LF, CR) and bidi controls. */
const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** What {@link sanitiseText} changed in one string. */
export interface TextChanges {
  /** Control characters removed (tab, LF and CR are kept). */
  controls: number;
  /** Bidi embedding, override and isolate characters removed. */
  bidi: number;
  /** Lone surrogates replaced with U+FFFD. */
  surrogates: number;
}

/** A cleaned string and what was changed (`changes` is undefined when nothing was). */
export interface SanitisedText {
  /** The text to send. */
  value: string;
  /** What was removed or replaced, when anything was. */
  changes?: TextChanges | undefined;
}

const isBidi = (c: number) => (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);

/**
 * Cleans one string for Marketo (see the module description): removes control characters except `\t\n\r` and bidi
 * controls, and replaces lone surrogates with U+FFFD. Strings that need no change are returned as they are.
 *
 * @example
 * sanitiseText("Acme\u0000 \u202eInc") // { value: "Acme Inc", changes: { controls: 1, bidi: 1, surrogates: 0 } }
 */
export function sanitiseText(text: string): SanitisedText {
  UNSAFE.lastIndex = 0;
  LONE_SURROGATE.lastIndex = 0;
  const hasUnsafe = UNSAFE.test(text);
  LONE_SURROGATE.lastIndex = 0;
  const hasLone = LONE_SURROGATE.test(text);
  if (!hasUnsafe && !hasLone) return { value: text };
  const changes: TextChanges = { controls: 0, bidi: 0, surrogates: 0 };
  let value = text.replace(LONE_SURROGATE, () => {
    changes.surrogates++;
    return "\ufffd";
  });
  value = value.replace(UNSAFE, (ch) => {
    if (isBidi(ch.charCodeAt(0))) changes.bidi++;
    else changes.controls++;
    return "";
  });
  return { value, changes };
}

/**
 * What makes a string unsafe as a key, or undefined when it is safe: a key with a control character, a bidi control
 * or a lone surrogate is rejected, never cleaned.
 */
export function unsafeTextIn(text: string): string | undefined {
  const { changes } = sanitiseText(text);
  if (!changes) return undefined;
  return describeChanges(changes);
}

/** A short human description of {@link TextChanges} ("2 control characters, 1 lone surrogate"). */
export function describeChanges(changes: TextChanges): string {
  const parts: string[] = [];
  const say = (n: number, one: string) => {
    if (n > 0) parts.push(`${n} ${one}${n === 1 ? "" : "s"}`);
  };
  say(changes.controls, "control character");
  say(changes.bidi, "bidi control");
  say(changes.surrogates, "lone surrogate");
  return parts.join(", ");
}

/**
 * A string made safe to show and store without changing what it says: control characters, bidi controls and lone
 * surrogates are written as `\u{XXXX}` escapes. Used for keys and messages of rejected records (the audit stores must
 * hold them: PostgreSQL text and jsonb refuse NUL).
 *
 * @example
 * visibleText("C1\u0000") // "C1\\u{0000}"
 */
export function visibleText(text: string): string {
  const { changes } = sanitiseText(text);
  if (!changes) return text;
  const hex = (c: number) => `\\u{${c.toString(16).toUpperCase().padStart(4, "0")}}`;
  return text.replace(LONE_SURROGATE, (ch) => hex(ch.charCodeAt(0))).replace(UNSAFE, (ch) => hex(ch.charCodeAt(0)));
}
