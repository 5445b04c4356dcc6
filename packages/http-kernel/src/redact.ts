/**
 * Removes secrets from text before it reaches an error, a log line, an event or a stored record: the exact values a
 * client was told about (its secrets and the tokens it was issued, also in their URL-, form- and XML-encoded forms),
 * and, for values it was never told (a token from a shared cache, a password a server echoes back), pattern rules.
 */

/** Keys whose value is a secret, in `key=value` (query strings, form bodies, log text). */
const PARAM_KEYS = "client_secret|client_id|access_token|refresh_token|id_token|password|passwd|pwd|api_key|apikey";

/** A pattern rule: what it matches, and how the match is rewritten with `marker`. */
interface Rule {
  readonly name: string;
  readonly pattern: RegExp;
  readonly replace: (marker: string) => string;
}

/** The pattern rules, each with its own unit test. */
export const REDACTION_RULES: readonly Rule[] = [
  {
    // client_secret=…, access_token=…, password=… in a query string, a form body or free text.
    name: "param",
    pattern: new RegExp(`((?:^|[^A-Za-z0-9_])(?:${PARAM_KEYS})=)[^&#\\s"'<>]*`, "gi"),
    replace: (m) => `$1${m}`,
  },
  {
    // "access_token": "…", "password":"…" in JSON a server echoes back.
    name: "json",
    pattern: new RegExp(
      `("(?:${PARAM_KEYS}|token|secret|clientSecret|accessToken|refreshToken)"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`,
      "gi",
    ),
    replace: (m) => `$1"${m}"`,
  },
  {
    // <password>…</password> (also with a namespace prefix) in XML a server echoes back.
    name: "xml",
    pattern: /(<(?:[\w-]+:)?(password|passwd|pwd|client_secret|access_token)(?:\s[^>]*)?>)[^<]*(<\/)/gi,
    replace: (m) => `$1${m}$3`,
  },
  {
    // Authorization: Bearer … / Basic … anywhere.
    name: "authorization",
    pattern: /(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=:-]+/gi,
    replace: (m) => `$1${m}`,
  },
];

/** Options of {@link Redactor}. */
export interface RedactorOptions {
  /** What replaces a secret. @default "[REDACTED]" */
  marker?: string;
}

/** Shortest value remembered as a secret: shorter ones would blank out ordinary words. */
const MIN_SECRET_LENGTH = 4;

/** A redactor that knows the secrets of one client (its credentials and the tokens it was issued). */
export class Redactor {
  readonly #secrets = new Set<string>();
  readonly #marker: string;
  #sorted: string[] | undefined;

  constructor(options: RedactorOptions = {}) {
    this.#marker = options.marker ?? "[REDACTED]";
  }

  /** The marker that replaces a secret. */
  get marker(): string {
    return this.#marker;
  }

  /** Remembers a value that must never be shown, in each encoded form it may take (ignored when under 4 characters). */
  add(secret: string | undefined): void {
    if (!secret || secret.length < MIN_SECRET_LENGTH) return;
    const forms = [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ v: secret }).toString().slice(2),
      secret.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;"),
      JSON.stringify(secret).slice(1, -1),
    ];
    for (const f of forms) this.#secrets.add(f);
    this.#sorted = undefined;
  }

  /** Returns `text` with every known secret and every pattern-rule match replaced by the marker. */
  redact(text: string): string {
    let out = text;
    this.#sorted ??= [...this.#secrets].sort((a, b) => b.length - a.length);
    for (const s of this.#sorted) if (out.includes(s)) out = out.split(s).join(this.#marker);
    for (const rule of REDACTION_RULES) out = out.replace(rule.pattern, rule.replace(this.#marker));
    return out;
  }

  /** {@link redactedSnippet} with this redactor. */
  snippet(text: string, maxChars: number): string {
    return redactedSnippet((t) => this.redact(t), text, maxChars);
  }
}

/** How much of a body is redacted before a snippet is cut from it. */
export const SNIPPET_WINDOW = 8192;

/**
 * A snippet of at most `maxChars` of `text`, redacted BEFORE it is cut: a secret the cut would split is still whole
 * when the redactor sees it. Only the first {@link SNIPPET_WINDOW} characters are looked at.
 */
export function redactedSnippet(redact: (text: string) => string, text: string, maxChars: number): string {
  return redact(text.slice(0, SNIPPET_WINDOW)).slice(0, maxChars);
}

/** Replaces userinfo and secret-looking query parameters in a URL (`[unparseable url]` when it is none). */
export function redactUrl(url: string, redactor: Redactor): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return redactor.redact(u.toString());
  } catch {
    return "[unparseable url]";
  }
}
