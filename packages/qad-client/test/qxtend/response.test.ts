import { failure } from "@ml/http-kernel/testing";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { QadQxtendError, QadResponseParseError, QadSoapFaultError } from "../../src/errors.js";
import { createQxtendBackend } from "../../src/qxtend/index.js";
import { customerSchema } from "../../src/records/customer.js";
import { goodsReceiptSchema } from "../../src/records/documents.js";
import { clientOptions, collect, testDeps } from "./helpers.js";

const URL_ = "http://127.0.0.1:9/qxi/services/QdocWebService";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function serve(...bodies: { status?: number; body: string; type?: string }[]): { requests: string[] } {
  const requests: string[] = [];
  let i = 0;
  server.use(
    http.post(URL_, async ({ request }) => {
      requests.push(await request.text());
      const b = bodies[Math.min(i++, bodies.length - 1)]!;
      return new HttpResponse(b.body, { status: b.status ?? 200, headers: { "content-type": b.type ?? "text/xml" } });
    }),
  );
  return { requests };
}

/** An answer with no rows: what confirms the end of a read whose first page was short. */
const EMPTY = { body: "<Envelope><Body><r><result>success</result></r></Body></Envelope>" };

const read = (pageSize = 10, extra = {}) =>
  collect(createQxtendBackend(clientOptions(URL_, extra), testDeps()).pages("customers", { pageSize }));

describe("defensive parsing of QXtend answers", () => {
  it("matches local names whatever the prefixes, and reads a single row (not an array)", async () => {
    serve(
      {
        body: `<?xml version="1.0"?>
<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:q="urn:schemas-qad-com:xml-services" xmlns:cc="urn:schemas-qad-com:xml-services:common" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <S:Header/>
  <S:Body>
    <q:queryCustomerResponse>
      <q:result>SUCCESS</q:result>
      <cc:dsSessionContext><cc:ttContext><cc:propertyName>cm_addr</cc:propertyName></cc:ttContext></cc:dsSessionContext>
      <q:dsCustomer>
        <q:cm_mstr>
          <q:cm_addr>A&amp;B</q:cm_addr>
          <q:cm_active>yes</q:cm_active>
          <q:cm_mod_date>03/04/26</q:cm_mod_date>
          <q:cm_curr xsi:nil="true"/>
          <q:cm_region></q:cm_region>
          <q:ad_mstr><q:ad_name>Caf&#xE9; &lt;Ünïcødé&gt; 😀</q:ad_name><q:ad_city>  Spaced  </q:ad_city></q:ad_mstr>
        </q:cm_mstr>
      </q:dsCustomer>
    </q:queryCustomerResponse>
  </S:Body>
</S:Envelope>`,
      },
      EMPTY,
    );
    const pages = await read();
    expect(pages).toHaveLength(1);
    const c = customerSchema.parse(pages[0]![0]);
    expect(c.customerCode).toBe("A&B");
    expect(c.name).toBe("Café <Ünïcødé> 😀");
    expect(c.address.city).toBe("  Spaced  ");
    expect(c.isActive).toBe(true);
    expect(c.lastModified).toEqual({ date: "2026-03-04", time: 0 });
    expect(c.currencyCode).toBeUndefined();
    expect(c.region).toBeUndefined();
    expect(c.contacts).toEqual([]);
    expect(pages[0]!.result).toBe("success");
  });

  it("reads flat rows with a single contact, and keeps going when a page is full", async () => {
    const row = (k: string) =>
      `<cm_mstr><cm_addr>${k}</cm_addr><ad_name>N${k}</ad_name><cm_mod_date>2026-05-06</cm_mod_date><contact><ct_code>K${k}</ct_code><ct_primary>true</ct_primary></contact></cm_mstr>`;
    const env = (rows: string) =>
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><queryCustomerResponse><result>success</result><dsCustomer>${rows}</dsCustomer></queryCustomerResponse></soapenv:Body></soapenv:Envelope>`;
    const s = serve({ body: env(row("A") + row("B")) }, { body: env(row("C")) });
    const pages = await read(2);
    expect(pages.map((p) => p.map((r) => (r as { customerCode: string }).customerCode))).toEqual([["A", "B"], ["C"]]);
    expect((pages[1]![0] as { contacts: unknown }).contacts).toEqual([{ contactCode: "KC", isPrimary: true }]);
    expect(s.requests[1]).toContain("<Filter>cm_addr &gt; &quot;B&quot;</Filter>");
  });

  it("a page where the server ignored the key filter fails instead of looping forever", async () => {
    const env = `<Envelope><Body><queryCustomerResponse><result>success</result><cm_mstr><cm_addr>A</cm_addr></cm_mstr><cm_mstr><cm_addr>B</cm_addr></cm_mstr></queryCustomerResponse></Body></Envelope>`;
    serve({ body: env });
    const e = await failure(read(2));
    expect(e).toBeInstanceOf(QadResponseParseError);
    expect((e as Error).message).toMatch(/does not apply the key filter/);
  });

  it("rows out of key order are refused (key paging would skip rows) unless keyOrder is trust", async () => {
    const rows = (...ks: string[]) =>
      `<Envelope><Body><r><result>success</result>${ks.map((k) => `<cm_mstr><cm_addr>${k}</cm_addr><ad_name>n</ad_name></cm_mstr>`).join("")}</r></Body></Envelope>`;
    serve({ body: rows("B", "A") });
    const e = await failure(read(5));
    expect(e).toBeInstanceOf(QadResponseParseError);
    expect((e as Error).message).toMatch(/not in key order/);
    // Case and trailing blanks do not count, as in Progress comparisons.
    serve({ body: rows("a", "B ", "b", "c") }, EMPTY);
    expect((await read(5)).flat()).toHaveLength(4);
    serve({ body: rows("B", "A") }, EMPTY);
    expect((await read(5, { keyOrder: "trust" })).flat()).toHaveLength(2);
    // Trusting the order still never loops on a cursor that does not move.
    serve({ body: rows("A", "B") });
    const loop = await failure(read(2, { keyOrder: "trust" }));
    expect((loop as Error).message).toMatch(/did not advance/);
  });

  it("maps a configured non-customer profile with typed fields (number, date, logical) and keeps the rest in custom", async () => {
    serve(
      {
        body: `<Envelope><Body><queryReceiptResponse><result>success</result><dsReceipt>
<prh_hist><prh_receiver>R1</prh_receiver><prh_nbr>PO1</prh_nbr><prh_vend></prh_vend><prh_rcp_date>12/31/25</prh_rcp_date><prh_part>IT1</prh_part><prh_rcvd>12.5</prh_rcvd><prh_mod_date>2026-01-02</prh_mod_date><prh_site>10</prh_site></prh_hist>
<prh_hist><prh_receiver>R2</prh_receiver><prh_nbr>PO2</prh_nbr><prh_rcp_date>01/01/26</prh_rcp_date><prh_rcvd>lots</prh_rcvd><prh_mod_date>2026-01-03</prh_mod_date></prh_hist>
</dsReceipt></queryReceiptResponse></Body></Envelope>`,
      },
      EMPTY,
    );
    const backend = createQxtendBackend(
      clientOptions(URL_, {
        profiles: {
          customers: "Customer",
          goodsReceipts: {
            profile: "Receipt",
            rowElement: "prh_hist",
            keyField: "prh_receiver",
            dateField: "prh_mod_date",
            fields: {
              receiptNumber: "prh_receiver",
              purchaseOrderNumber: "prh_nbr",
              supplierCode: "prh_vend",
              receiptDate: { field: "prh_rcp_date", type: "date" },
              itemCode: "prh_part",
              quantity: { field: "prh_rcvd", type: "number" },
            },
          },
        },
      }),
      testDeps(),
    );
    const [page] = await collect(backend.pages("goodsReceipts", { pageSize: 10 }));
    expect(goodsReceiptSchema.parse(page![0])).toEqual({
      receiptNumber: "R1",
      purchaseOrderNumber: "PO1",
      receiptDate: "2025-12-31",
      itemCode: "IT1",
      quantity: 12.5,
      lastModified: { date: "2026-01-02", time: 0 },
      custom: { prh_site: "10" },
    });
    // A value that is not a number is passed on as text, so validation above reports the row.
    expect(goodsReceiptSchema.safeParse(page![1]).success).toBe(false);
    expect((page![1] as { quantity: unknown }).quantity).toBe("lots");
  });

  it("a row without the key field cannot be paged and is reported", async () => {
    serve({
      body: `<Envelope><Body><r><result>success</result><cm_mstr><ad_name>x</ad_name></cm_mstr></r></Body></Envelope>`,
    });
    expect(await failure(read())).toBeInstanceOf(QadResponseParseError);
  });

  it("SOAP Fault with a detail and any prefix", async () => {
    serve({
      status: 500,
      body: `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><e:Fault><faultcode>e:Client</faultcode><faultstring>Receiver not found</faultstring><detail><x:info xmlns:x="urn:x">no such receiver</x:info></detail></e:Fault></e:Body></e:Envelope>`,
    });
    const e = (await failure(read())) as QadSoapFaultError;
    expect(e).toBeInstanceOf(QadSoapFaultError);
    expect(e.faultcode).toBe("e:Client");
    expect(e.faultstring).toBe("Receiver not found");
    expect(e.detail).toBe("no such receiver");
    expect(Object.keys(e)).toContain("detail");
    // Built directly, without a detail, the property is absent rather than an own undefined.
    const bare = new QadSoapFaultError("soapenv:Server", "x");
    expect(bare.detail).toBeUndefined();
    expect(Object.hasOwn(bare, "detail")).toBe(false);
    expect(new QadSoapFaultError("soapenv:Server", "x", { detail: "d" }).detail).toBe("d");
  });

  it("result missing but dsExceptions error rows present counts as an error; a single temp_err_msg works", async () => {
    serve({
      body: `<Envelope><Body><queryCustomerResponse><dsExceptions><temp_err_msg><tt_msg_nbr>42</tt_msg_nbr><tt_msg_desc>Bad</tt_msg_desc><tt_msg_sev>error</tt_msg_sev></temp_err_msg></dsExceptions></queryCustomerResponse></Body></Envelope>`,
    });
    const e = (await failure(read())) as QadQxtendError;
    expect(e).toBeInstanceOf(QadQxtendError);
    expect(e.messages).toEqual([{ number: 42, description: "Bad", severity: "error" }]);
  });

  it("malformed XML, non-SOAP XML and an empty Body are parse errors; 5xx HTML is retried then an HTTP error", async () => {
    serve({ body: "<Envelope><Body><unclosed></Body>" });
    expect(await failure(read())).toBeInstanceOf(QadResponseParseError);
    serve({ body: "<rss><channel/></rss>" });
    expect(((await failure(read())) as Error).message).toMatch(/not a SOAP envelope/);
    serve({ body: "<Envelope><Body></Body></Envelope>" });
    expect(((await failure(read())) as Error).message).toMatch(/empty SOAP Body/);
    const s = serve({ status: 502, body: "<html><body>Bad gateway</body></html>", type: "text/html" });
    const e = (await failure(read(10, { retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1 } }))) as Error & {
      status: number;
    };
    expect(e.status).toBe(502);
    expect(s.requests).toHaveLength(3);
  });

  it("refuses a DOCTYPE entity bomb without expanding it", async () => {
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">]><Envelope><Body><r><result>success</result><cm_mstr><cm_addr>&lol6;</cm_addr></cm_mstr></r></Body></Envelope>`;
    serve({ body: lol });
    const outcome = await read().then(
      (pages) => pages.flat().map((r) => (r as { customerCode: string }).customerCode.length),
      (e: unknown) => e,
    );
    // Either refused, or not expanded into a million characters.
    if (Array.isArray(outcome)) expect(Math.max(...outcome)).toBeLessThan(10_000);
    else expect(outcome).toBeInstanceOf(QadResponseParseError);
  });
});
