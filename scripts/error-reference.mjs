// Prints the error reference of the three published packages as Markdown tables, read from their errors.ts files
// (TypeScript's parser, no build needed): every exported error class, what it extends, its code(s), whether it is
// retryable, its JSDoc, and what to do about it. The "what to do" column is the one hand-written part: it lives in
// TODO below, and the script fails when a class has no entry or an entry names a class that no longer exists, so the
// table cannot drift from the code.
//
//   node scripts/error-reference.mjs           print the tables
//   node scripts/error-reference.mjs --write   replace the generated part of docs/guides/errors.md
//   node scripts/error-reference.mjs --check   exit 1 when docs/guides/errors.md is not what --write would make it
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ts = require("typescript");
const root = fileURLToPath(new URL("..", import.meta.url));

/** The packages and the files holding their error classes. */
const PACKAGES = [
  {
    name: "@ml/marketo-client",
    guard: "isMarketoError",
    files: ["packages/marketo-client/src/errors.ts", "packages/marketo-client/src/bulk/errors.ts"],
  },
  {
    name: "@ml/qad-client",
    guard: "isQadError",
    files: ["packages/qad-client/src/errors.ts", "packages/qad-client/src/network/tenant-policy.ts"],
  },
  {
    name: "@ml/qad-marketo-sync",
    guard: "isSyncError",
    files: ["packages/qad-marketo-sync/src/errors.ts"],
  },
];

/**
 * What to do, per class. `codes` / `retryable` are used only where the source does not say (Marketo's classes take
 * the code and the retryable flag from whoever throws them).
 */
const TODO = {
  // @ml/marketo-client
  MarketoError: { codes: "any", todo: "Base class: branch on `code` or the subclass." },
  MarketoApiError: {
    codes: "Marketo's code",
    retryable: "per code",
    todo: "Read `errors[]`; transient codes were already retried by the client.",
  },
  MarketoAuthError: {
    codes: "`AUTH`, or `600` / `601` / `602`",
    retryable: "no",
    todo: "Check the client id and secret of the API-only user (Admin → LaunchPoint → View Details) and the Munchkin ID / base URLs. See [credentials](credentials.md).",
  },
  MarketoPermissionError: {
    codes: "`603`",
    retryable: "no",
    todo: "Give the API-only user's role the API permissions for the object (Admin → Users & Roles → Roles).",
  },
  MarketoRateLimitError: {
    codes: "`606`, `615`",
    retryable: "yes",
    todo: "Another integration is squeezing the instance's quota. The sync engine carries the records forward. Share a `limiterStore` between your own processes. See [quotas](quotas-and-cost.md).",
  },
  MarketoQuotaExceededError: {
    codes: "`607`, `DAILY_BUDGET`",
    retryable: "no",
    todo: "Wait for 00:00 US Central. A run resumes from its checkpoint. Raise `limits.dailyQuota` only if Marketo raised your quota.",
  },
  MarketoReadOnlyError: {
    codes: "`1018`",
    retryable: "no",
    todo: "A native CRM sync owns the object. The engine reads instead of writing it. See [read-only](read-only-crm.md).",
  },
  MarketoInvalidRequestError: {
    codes: "Marketo's code",
    retryable: "no",
    todo: "A bug or a field the instance does not have: read `errors[]`. For 1003/1006, run the doctor's field check.",
  },
  MarketoHttpError: {
    codes: "`HTTP_<status>`",
    retryable: "5xx: yes",
    todo: "Check the base URLs and any proxy (`bodySnippet` shows what answered).",
  },
  MarketoResponseParseError: {
    retryable: "yes",
    todo: "A proxy or captive portal answered instead of Marketo. Check the base URLs.",
  },
  MarketoNetworkError: {
    retryable: "yes",
    todo: "Check DNS, the firewall and the proxy. Retried when repeating the call is safe.",
  },
  MarketoTimeoutError: {
    retryable: "yes",
    todo: "Try later. Raise `timeoutMs` only for a known-slow network.",
  },
  MarketoRedirectError: {
    retryable: "no",
    todo: "Use the final URLs (the Munchkin ID's `mktorest.com` host). A cross-origin redirect is never followed.",
  },
  MarketoResponseTooLargeError: {
    retryable: "no",
    todo: "Something other than Marketo is answering, or the answer is too big. Raise `maxResponseBytes` only if it is expected.",
  },
  MarketoConfigError: { retryable: "no", todo: "Fix the option that the message names. Nothing was sent." },
  MarketoValidationError: {
    codes: "`VALIDATION`, `PAYLOAD_TOO_LARGE`",
    retryable: "no",
    todo: "Fix the input (`issues`). `PAYLOAD_TOO_LARGE`: one record is over 1 MB.",
  },
  MarketoSyncIncompleteError: {
    codes: "the first failure's",
    retryable: "the first failure's",
    todo: "Send `failedIndexes` again. `partial` holds the results Marketo gave.",
  },
  MarketoBulkError: {
    codes: "see subclasses",
    retryable: "per error",
    todo: "Keep `state` and pass it as `resumeFrom` to continue the extract.",
  },
  MarketoBulkQuotaError: {
    retryable: "no",
    todo: "The instance's 500 MB export quota is used up. Save `state` and resume after `resetsAt`.",
  },
  MarketoBulkJobFailedError: {
    retryable: "no",
    todo: "Resume from `state`: it creates a new job for the window.",
  },
  MarketoBulkTimeoutError: {
    retryable: "yes",
    todo: "The export queue is full (other API users). Resume later from `state`, or raise `poll.timeoutMs` / `queueTimeoutMs`.",
  },
  MarketoChecksumError: { retryable: "no", todo: "Resume from `state`: the file is read again." },
  MarketoCsvError: {
    codes: "`BULK_TRUNCATED`, `BULK_HEADER_MISMATCH`, csv-parse's code",
    retryable: "no",
    todo: "`BULK_HEADER_MISMATCH`: check `format` and `columnHeaderNames`. Otherwise resume from `state`.",
  },
  MarketoBulkDownloadError: {
    retryable: "`BULK_DOWNLOAD`: yes",
    todo: "`BULK_DOWNLOAD`: resume from `state` later. `BULK_FILE_GONE`: resume. A new job is made once 7 days have passed.",
  },
  // @ml/qad-client
  QadError: { todo: "Base class: branch on `code` or the subclass." },
  QadConfigError: { todo: "Fix the option that the message names. Nothing was sent." },
  QadTenantUrlError: {
    todo: "Use the tenant's public https URL. For labs, simulators and on-prem sites, set the `network` option named in the message. See [security](security.md).",
  },
  QadUnsafePathError: {
    todo: "Check `entities` against the instance's API description, or list the path in `allowedPaths`.",
  },
  QadAuthError: {
    todo: "Check the user, password and OAuth2 client, and the token path. See [credentials](credentials.md#qad).",
  },
  QadPermissionError: {
    todo: "Give the QAD user read access to the documents, and check `workspaceId` / `domainCode`.",
  },
  QadHttpError: {
    todo: "Check the tenant URL and that the instance is up. Transient errors were already retried.",
  },
  QadTimeoutError: { todo: "Try later, or use a smaller `pageSize`. Raise `timeoutMs` for a slow instance." },
  QadRedirectError: { todo: "Put the final URL in `tenantUrl`. A cross-origin redirect is never followed." },
  QadResponseTooLargeError: {
    todo: "Lower `pageSize`. Raise `maxResponseBytes` only when answers that big are expected.",
  },
  QadSubmitError: { todo: "QAD refused the document: see `errors[]`." },
  QadResponseParseError: {
    todo: "An HTML login page or a proxy answered. Check that `tenantUrl` ends at the tenant (`…/clouderp`). For QXtend, check `keyOrder`.",
  },
  QadValidationError: {
    todo: 'Fix the record in QAD, or read with `invalid: "emit"`. The sync always does: it audits the row as `rejected`.',
  },
  QadPagingError: {
    todo: "`empty_first_page`: check the `browse` settings (paging parameters). `page_cap`: raise `browse.maxPages`.",
  },
  QadSoapFaultError: {
    todo: "Check the QXtend `receiver`, `version`, credentials, domain and profile names with your QAD admin.",
  },
  QadQxtendError: { todo: "Read `messages[]`. A profile's filter may not support what was sent." },
  QadAbortError: { todo: "Your `signal` aborted the call. Nothing to fix." },
  // @ml/qad-marketo-sync
  SyncError: {
    todo: "`store`: the database failed (retryable for connection losses and deadlocks). `source` / `gateway`: see the cause. `already_running`: another runner holds the lease.",
  },
  SyncConfigError: { todo: "Fix every entry of `issues`. No lease was taken and no call was made." },
  LeaseLostError: {
    todo: "Another runner took the tenant pair's lease. This one stalled longer than `lease.ttlMs`, or a second service shares the state. The next run continues.",
  },
  SchemaVersionError: {
    todo: "A newer release migrated this database. Run that release (nothing was changed).",
  },
  VaultError: { todo: "See the vault codes in the [credentials guide](credentials.md#vault-errors)." },
};

const clean = (s) =>
  s
    .replace(/\{@link\s+([^}\s|]+)[^}]*\}/g, "`$1`")
    .replace(/\s+/g, " ")
    .replace(/\|/g, "\\|")
    .trim();

/** String-literal members of a type alias in the file (one level of aliases followed). */
function unionMembers(sf, name, seen = new Set()) {
  if (seen.has(name)) return [];
  seen.add(name);
  let out = [];
  ts.forEachChild(sf, (n) => {
    if (!ts.isTypeAliasDeclaration(n) || n.name.text !== name) return;
    const types = ts.isUnionTypeNode(n.type) ? n.type.types : [n.type];
    for (const t of types) {
      if (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal)) out.push(t.literal.text);
      else if (ts.isTypeReferenceNode(t)) out = out.concat(unionMembers(sf, t.typeName.getText(sf), seen));
    }
  });
  return out;
}

function superCall(ctor) {
  let found;
  const visit = (n) => {
    if (found) return;
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.SuperKeyword) found = n;
    else ts.forEachChild(n, visit);
  };
  if (ctor?.body) visit(ctor.body);
  return found;
}

function retryableOf(call, sf) {
  for (const arg of call?.arguments ?? []) {
    if (!ts.isObjectLiteralExpression(arg)) continue;
    for (const p of arg.properties) {
      if (!ts.isPropertyAssignment(p) || p.name.getText(sf) !== "retryable") continue;
      const v = p.initializer;
      if (v.kind === ts.SyntaxKind.TrueKeyword) return "yes";
      if (v.kind === ts.SyntaxKind.FalseKeyword) return "no";
      if (ts.isBinaryExpression(v) && v.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken) {
        const d = v.right;
        if (d.kind === ts.SyntaxKind.TrueKeyword) return "yes (default)";
        if (d.kind === ts.SyntaxKind.FalseKeyword) return "no (default)";
        return `when \`${clean(d.getText(sf))}\``;
      }
      return `when \`${clean(v.getText(sf))}\``;
    }
  }
  return undefined;
}

/** A base class's default: `this.retryable = options.retryable ?? false`. */
function defaultRetryable(ctor, sf) {
  let found;
  const visit = (n) => {
    if (found) return;
    if (
      ts.isBinaryExpression(n) &&
      n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      n.left.getText(sf) === "this.retryable" &&
      ts.isBinaryExpression(n.right) &&
      n.right.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken
    )
      found = n.right.right.kind === ts.SyntaxKind.TrueKeyword ? "yes" : "no";
    else ts.forEachChild(n, visit);
  };
  if (ctor?.body) visit(ctor.body);
  return found;
}

function classesOf(file) {
  const text = readFileSync(`${root}${file}`, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = [];
  ts.forEachChild(sf, (n) => {
    if (!ts.isClassDeclaration(n) || !n.name) return;
    if (!n.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return;
    const parent = n.heritageClauses?.[0]?.types[0]?.expression.getText(sf);
    if (!parent) return;
    const doc = ts
      .getJSDocCommentsAndTags(n)
      .filter(ts.isJSDoc)
      .map((d) => ts.getTextOfJSDocComment(d.comment) ?? "")
      .join(" ");
    const ctor = n.members.find(ts.isConstructorDeclaration);
    const call = superCall(ctor);
    const first = call?.arguments[0];
    let codes;
    if (first && ts.isStringLiteral(first)) codes = [first.text];
    else {
      const declared = n.members.find(
        (m) => ts.isPropertyDeclaration(m) && m.name.getText(sf) === "code" && m.type && ts.isTypeReferenceNode(m.type),
      );
      if (declared) codes = unionMembers(sf, declared.type.typeName.getText(sf));
    }
    if (!codes && /^(Qad|Sync)Error$/.test(parent) === false && parent === "Error") {
      const ctorCode = ctor?.parameters.find((p) => p.name.getText(sf) === "code");
      if (ctorCode?.type && ts.isTypeReferenceNode(ctorCode.type))
        codes = unionMembers(sf, ctorCode.type.typeName.getText(sf));
    }
    if (!codes) {
      // Marketo: the codes a class documents, as quoted literals in its JSDoc.
      const quoted = [...doc.matchAll(/"([A-Z][A-Z0-9_]*|\d{3,4})"/g)].map((m) => m[1]);
      if (quoted.length > 0) codes = [...new Set(quoted)];
    }
    const base = defaultRetryable(ctor, sf);
    out.push({
      name: n.name.text,
      parent,
      doc: clean(doc),
      codes,
      retryable: retryableOf(call, sf) ?? (base ? `set by the thrower (default ${base})` : undefined),
    });
  });
  return out;
}

function render() {
  const problems = [];
  const known = new Set();
  const parts = [];
  for (const pkg of PACKAGES) {
    const classes = pkg.files.flatMap(classesOf);
    const byName = new Map(classes.map((c) => [c.name, c]));
    // Inherit a code and a retryable rule from the parent class where the class itself sets none.
    const codesOf = (c) => c.codes ?? (byName.has(c.parent) ? codesOf(byName.get(c.parent)) : undefined);
    const retryOf = (c) => c.retryable ?? (byName.has(c.parent) ? inherited(retryOf(byName.get(c.parent))) : undefined);
    const inherited = (r) => (r === undefined || r.startsWith("set by") ? r : r.replace(/ \(default\)$/, ""));
    const rows = [
      "| class | extends | `code` | retryable | what it means | what to do |",
      "| ----- | ------- | ------ | --------- | ------------- | ---------- |",
    ];
    for (const c of classes) {
      known.add(c.name);
      const hand = TODO[c.name];
      if (!hand) {
        problems.push(`no "what to do" entry for ${c.name} (add it to TODO in scripts/error-reference.mjs)`);
        continue;
      }
      const codes = codesOf(c);
      // A hand-written code list wins: Marketo's classes document only some of the codes they carry.
      const code = hand.codes ?? (codes ? codes.map((x) => `\`${x}\``).join(", ") : "set by the thrower");
      const retryable = c.retryable ?? hand.retryable ?? retryOf(c) ?? "set by the thrower";
      rows.push(`| \`${c.name}\` | \`${c.parent}\` | ${code} | ${retryable} | ${c.doc} | ${hand.todo} |`);
    }
    parts.push(
      `### ${pkg.name}\n\nGuard: \`${pkg.guard}(e)\` (a brand check, true across ESM and CJS copies). ` +
        `Read from ${pkg.files.map((f) => `[\`${f.replace(/^packages\//, "")}\`](../../${f})`).join(" and ")}.\n\n${rows.join("\n")}`,
    );
  }
  for (const name of Object.keys(TODO))
    if (!known.has(name)) problems.push(`TODO names ${name}, which is no exported error class any more`);
  return { markdown: parts.join("\n\n"), problems };
}

const { markdown, problems } = render();
if (problems.length > 0) {
  for (const p of problems) console.error(`error-reference: ${p}`);
  process.exit(1);
}
const mode = process.argv[2];
if (mode === "--write" || mode === "--check") {
  const path = `${root}docs/guides/errors.md`;
  const doc = readFileSync(path, "utf8");
  const begin = "<!-- generated by scripts/error-reference.mjs: begin -->";
  const end = "<!-- generated by scripts/error-reference.mjs: end -->";
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) {
    console.error(`error-reference: ${path} lacks the generated-part markers`);
    process.exit(1);
  }
  const next = `${doc.slice(0, a + begin.length)}\n\n${markdown}\n\n${doc.slice(b)}`;
  if (mode === "--check") {
    // Table padding is biome's business (it re-pads markdown tables), so the comparison ignores runs of spaces and
    // the length of separator dashes.
    const norm = (t) => t.replace(/ {2,}/g, " ").replace(/-{3,}/g, "---");
    if (norm(next) !== norm(doc)) {
      console.error(
        "error-reference: docs/guides/errors.md is out of date: run node scripts/error-reference.mjs --write",
      );
      process.exit(1);
    }
    console.log("error-reference: docs/guides/errors.md is up to date");
  } else {
    writeFileSync(path, next);
    console.log("error-reference: docs/guides/errors.md written (run `pnpm format` to pad its tables)");
  }
} else {
  console.log(markdown);
}
