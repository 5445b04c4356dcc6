import type { Contact, Customer } from "../records/customer.js";

const FIRST = ["Anna", "Björn", "Chloé", "Dmitri", "Eva", "François", "Grace", "Hiro", "Inés", "José", "Zoë", "Ωmar"];
const LAST = [
  "Smith",
  "Müller",
  "García",
  "Nakamura",
  "O'Brien",
  "Dubois",
  "Kowalski",
  "Øster",
  "Nguyễn",
  "李",
  "Shah",
];
const ORG = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Hooli"];
const SUFFIX = ["Inc.", "GmbH", "S.A.", "Ltd", "B.V.", "K.K.", "AG", "LLC", "& Co."];
const CITY: [string, string, string][] = [
  ["Chicago", "IL", "US"],
  ["München", "BY", "DE"],
  ["São Paulo", "SP", "BR"],
  ["東京", "13", "JP"],
  ["Zürich", "ZH", "CH"],
  ["Kraków", "MA", "PL"],
  ["Austin", "TX", "US"],
];
const UNICODE_NAMES = [
  "株式会社テスト",
  "Ærøskøbing Fisk ApS",
  "Δέλτα Α.Ε.",
  "Zoë's Café & Bäckerei",
  "Пример ООО",
  "🚀 Rocket Co",
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** Formats a sim instant (ms) as QAD's day + seconds, read in UTC. @internal */
export function instantOf(ms: number): { date: string; time: number } {
  const d = new Date(ms);
  return {
    date: d.toISOString().slice(0, 10),
    time: d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds(),
  };
}

/** Customer code of the n-th generated customer (1-based): `C000001`. */
export function customerCodeOf(n: number): string {
  return `C${String(n).padStart(6, "0")}`;
}

/**
 * The n-th deterministic customer. Every 17th has a unicode name, every 13th misses its optional fields, every
 * 29th carries very long values; contacts vary from none to three.
 * @internal
 */
export function generateCustomer(
  n: number,
  r: () => number,
  opts: { sharedSets: number; modifiedAt: number; hash: string },
): Customer {
  const code = customerCodeOf(n);
  const sharedSetCode = opts.sharedSets <= 1 ? "SS1" : `SS${1 + (n % opts.sharedSets)}`;
  const sparse = n % 13 === 0;
  const long = n % 29 === 0;
  const name =
    n % 17 === 0
      ? pick(r, UNICODE_NAMES)
      : long
        ? `${pick(r, ORG)} ${"International Holdings ".repeat(12).trim()} ${pick(r, SUFFIX)}`
        : `${pick(r, ORG)} ${pick(r, LAST)} ${pick(r, SUFFIX)}`;
  const [city, state, country] = pick(r, CITY);
  const contacts: Contact[] = [];
  const nContacts = sparse ? 0 : Math.floor(r() * 4);
  for (let i = 0; i < nContacts; i++) {
    const first = pick(r, FIRST);
    const last = pick(r, LAST);
    contacts.push({
      contactCode: `${code}-${i + 1}`,
      name: `${first} ${last}`,
      firstName: first,
      lastName: last,
      ...(i === 2
        ? {}
        : { email: `${first}.${i}@${code.toLowerCase()}.example.com`.normalize("NFKD").replace(/[^\x20-\x7e]/g, "") }),
      ...(i === 0
        ? { telephone: `+1-555-${String(n % 10000).padStart(4, "0")}`, isPrimary: true }
        : { isPrimary: false }),
      ...(r() < 0.5 ? { title: pick(r, ["Buyer", "CFO", "Procurement Lead", "Owner"]) } : {}),
    });
  }
  const base: Customer = {
    customerCode: code,
    sharedSetCode,
    name,
    address: sparse
      ? { countryCode: country }
      : {
          street1: long ? `${n} ${"Very Long Industrial Park Avenue ".repeat(8).trim()}` : `${n} Main Street`,
          ...(n % 3 === 0 ? { street2: `Suite ${n % 500}` } : {}),
          city,
          zipCode: String(10000 + (n % 89999)),
          stateCode: state,
          countryCode: country,
        },
    isActive: n % 11 !== 0,
    contacts,
    lastModified: instantOf(opts.modifiedAt),
    concurrencyHash: opts.hash,
    custom: sparse ? {} : { customCombo0: pick(r, ["A", "B", "C"]), customShort0: `seg-${n % 7}` },
  };
  if (!sparse) {
    Object.assign(base, {
      businessRelationCode: `BR${code.slice(1)}`,
      telephone: `+1-312-555-${String(n % 10000).padStart(4, "0")}`,
      email: `info@${code.toLowerCase()}.example.com`,
      webSite: `https://www.${code.toLowerCase()}.example.com`,
      languageCode: pick(r, ["us", "de", "fr", "ja"]),
      customerTypeCode: pick(r, ["DIST", "OEM", "RETAIL", "SERVICE"]),
      currencyCode: pick(r, ["USD", "EUR", "JPY"]),
      creditTermsCode: pick(r, ["N30", "N60", "COD"]),
      salespersonCode: `SP${n % 20}`,
      region: pick(r, ["NA", "EMEA", "APAC"]),
      corporateGroupCode: n % 5 === 0 ? `GRP${n % 40}` : undefined,
    });
    if (base.corporateGroupCode === undefined) delete base.corporateGroupCode;
  }
  return base;
}
