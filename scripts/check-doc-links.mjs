// Checks that every relative link in the root README and in docs/ (the generated docs/api excepted) points at a file
// or folder that exists, and that a `#fragment` into a Markdown file names one of its headings (GitHub's slugs).
//
//   node scripts/check-doc-links.mjs [files...]   default: README.md, docs/*.md, docs/guides/*.md
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function markdownFiles() {
  const out = [join(root, "README.md")];
  for (const dir of ["docs", "docs/guides"]) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs)) if (f.endsWith(".md")) out.push(join(abs, f));
  }
  return out;
}

/** GitHub's heading slug: lower case, punctuation dropped, spaces to dashes; repeats get -1, -2 ... */
function anchorsOf(file) {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  const seen = new Map();
  const out = new Set();
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]
      .replace(/<[^>]+>/g, "")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of text.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => resolve(f)) : markdownFiles();
let bad = 0;
let checked = 0;
for (const file of files) {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, (block) => block.replace(/[^\n]/g, " "));
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    for (const m of line.replace(/`[^`]*`/g, (s) => " ".repeat(s.length)).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const href = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto:
      checked++;
      const [path, fragment] = href.split("#");
      const target = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
      const where = `${relative(root, file)}:${i + 1}`;
      if (!existsSync(target)) {
        console.error(`${where}: ${href}: no such file`);
        bad++;
        continue;
      }
      if (fragment && statSync(target).isFile() && target.endsWith(".md") && !anchorsOf(target).has(fragment)) {
        console.error(`${where}: ${href}: no heading #${fragment} in ${relative(root, target)}`);
        bad++;
      }
    }
  });
}
console.log(`check-doc-links: ${checked} relative links in ${files.length} files, ${bad} broken`);
if (bad > 0) process.exit(1);
