import type { SourceCustomer } from "../../src/index.js";

/** A valid customer record with `n` in its code, name and contact email. */
export function customer(n: number, over: Partial<SourceCustomer> = {}): SourceCustomer {
  return {
    customerCode: `C${n}`,
    sharedSetCode: "SET",
    name: `Customer ${n} Inc`,
    address: { street1: `${n} Main St`, city: "Austin", stateCode: "TX", zipCode: "78701", countryCode: "US" },
    telephone: "+1 512 555 0100",
    webSite: `www.customer${n}.example`,
    isActive: true,
    customerTypeCode: "MANUF",
    currencyCode: "USD",
    region: "NA",
    contacts: [{ contactCode: `P${n}`, firstName: "Pat", lastName: `Doe${n}`, email: `pat${n}@customer${n}.example` }],
    lastModified: { date: "2026-11-01", time: n },
    custom: {},
    ...over,
  };
}

export const customers = (count: number, from = 1) => Array.from({ length: count }, (_, i) => customer(from + i));
