import { describe, expect, it } from "vitest";
import { REDACTION_RULES, Redactor, redactedSnippet, redactUrl, SNIPPET_WINDOW } from "../src/redact.js";

/** A redactor that knows no secret: only the pattern rules apply. */
const blind = () => new Redactor();

describe("Redactor: known secrets", () => {
  it("removes a known secret and its URL-, form-, XML- and JSON-encoded forms", () => {
    const r = new Redactor();
    const secret = 's3cr&t "x"+/ y<z>';
    r.add(secret);
    const forms = [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ v: secret }).toString().slice(2),
      "s3cr&amp;t &quot;x&quot;+/ y&lt;z&gt;",
      JSON.stringify(secret).slice(1, -1),
    ];
    for (const f of forms) expect(r.redact(`before ${f} after`)).toBe("before [REDACTED] after");
  });

  it("ignores values under 4 characters and uses the configured marker", () => {
    const r = new Redactor({ marker: "[redacted]" });
    r.add("abc");
    r.add("tok-123456");
    expect(r.redact("abc tok-123456")).toBe("abc [redacted]");
    expect(r.marker).toBe("[redacted]");
  });
});

describe("Redactor: pattern rules, for values it was never told", () => {
  const rule = (name: string) => REDACTION_RULES.find((r) => r.name === name);

  it.each([
    ["client_secret=abc123&x=1", "client_secret=[REDACTED]&x=1"],
    ["?access_token=tok.en-1 trailing", "?access_token=[REDACTED] trailing"],
    ["grant_type=password&password=hunter22&username=u", "grant_type=password&password=[REDACTED]&username=u"],
    ["refresh_token=rt-9", "refresh_token=[REDACTED]"],
  ])("param rule: %s", (input, expected) => {
    expect(rule("param")).toBeDefined();
    expect(blind().redact(input)).toBe(expected);
  });

  it("param rule leaves look-alike keys alone", () => {
    expect(blind().redact("my_password_hint=cat&nonce=1")).toBe("my_password_hint=cat&nonce=1");
  });

  it.each([
    ['{"access_token":"eyJ.abc.def","expires_in":3600}', '{"access_token":"[REDACTED]","expires_in":3600}'],
    ['{"password": "hun\\"ter2"}', '{"password": "[REDACTED]"}'],
    ['{"token":"t-1","refresh_token":"r-2"}', '{"token":"[REDACTED]","refresh_token":"[REDACTED]"}'],
  ])("json rule: %s", (input, expected) => {
    expect(rule("json")).toBeDefined();
    expect(blind().redact(input)).toBe(expected);
  });

  it("xml rule: <password> with or without a namespace prefix", () => {
    expect(rule("xml")).toBeDefined();
    expect(blind().redact("<qdoc:password>pw-1</qdoc:password><user>u</user>")).toBe(
      "<qdoc:password>[REDACTED]</qdoc:password><user>u</user>",
    );
    expect(blind().redact('<password type="x">pw-2</password>')).toBe('<password type="x">[REDACTED]</password>');
  });

  it("authorization rule: Bearer and Basic values", () => {
    expect(rule("authorization")).toBeDefined();
    expect(blind().redact("authorization: Bearer eyJhbGciOi.J9-x_y~z+/=")).toBe("authorization: Bearer [REDACTED]");
    expect(blind().redact("Authorization: Basic dXNlcjpwYXNz")).toBe("Authorization: Basic [REDACTED]");
  });

  it("every rule is exercised by a test above", () => {
    expect(REDACTION_RULES.map((r) => r.name).sort()).toEqual(["authorization", "json", "param", "xml"]);
  });
});

describe("redactUrl", () => {
  it("drops userinfo and secret query parameters; refuses what is no URL", () => {
    expect(redactUrl("https://u:p@h.example/x?access_token=t&a=1", blind())).toBe(
      "https://h.example/x?access_token=[REDACTED]&a=1",
    );
    expect(redactUrl("not a url", blind())).toBe("[unparseable url]");
  });
});

describe("redactedSnippet", () => {
  it("redacts before it cuts, so a secret the cut would split is still replaced", () => {
    const r = new Redactor();
    r.add("tok-SECRET-123456");
    const text = `${"x".repeat(10)}tok-SECRET-123456 and more`;
    const s = r.snippet(text, 14);
    expect(s).toBe(`${"x".repeat(10)}[RED`);
    expect(s).not.toContain("tok-");
    expect(redactedSnippet((t) => r.redact(t), text, 200)).toBe(`${"x".repeat(10)}[REDACTED] and more`);
  });

  it("looks at the first SNIPPET_WINDOW characters only", () => {
    const r = new Redactor();
    expect(r.snippet("a".repeat(SNIPPET_WINDOW + 50), SNIPPET_WINDOW + 50)).toHaveLength(SNIPPET_WINDOW);
  });
});
