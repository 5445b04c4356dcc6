import { describe, expectTypeOf, it } from "vitest";
import type { QadBackend } from "../../src/backend.js";
import { QadSoapFaultError } from "../../src/errors.js";
import {
  createQxtendBackend,
  type QxtendBackend,
  type QxtendDeps,
  type QxtendOptions,
  type QxtendPage,
} from "../../src/qxtend/index.js";
import type {
  QxtendHandler,
  QxtendSimRequest,
  QxtendSimResponse,
  QxtendSimStore,
} from "../../src/testing/qxtend/index.js";
import type { QadSimStore } from "../../src/testing/store.js";

describe("QXtend public types", () => {
  it("createQxtendBackend returns a QadBackend speaking qxtend, with pages carrying warnings", () => {
    expectTypeOf(createQxtendBackend).returns.toEqualTypeOf<QxtendBackend>();
    expectTypeOf<QxtendBackend>().toExtend<QadBackend>();
    expectTypeOf<QxtendBackend["protocol"]>().toEqualTypeOf<"qxtend">();
    expectTypeOf<QxtendPage>().toExtend<unknown[]>();
    expectTypeOf<QxtendPage["warnings"][number]["description"]>().toEqualTypeOf<string>();
  });

  it("QadSoapFaultError has a typed optional detail, settable through its options", () => {
    expectTypeOf<QadSoapFaultError["detail"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf(new QadSoapFaultError("soapenv:Client", "bad", { detail: "why" }).detail).toEqualTypeOf<
      string | undefined
    >();
  });

  it("options need url, receiver, version and profiles; defaults stay optional", () => {
    expectTypeOf({
      url: "https://q/qxi/services/QdocWebService",
      receiver: "r",
      version: "eB2_1",
      profiles: { customers: "Customer" },
    }).toExtend<QxtendOptions>();
    expectTypeOf({ url: "https://q", receiver: "r", profiles: {} }).not.toExtend<QxtendOptions>();
    expectTypeOf<{
      fetch: typeof fetch;
      clock: { now(): number };
      sleep(ms: number): Promise<void>;
      random(): number;
    }>().toExtend<QxtendDeps>();
  });

  it("the simulator face accepts the shared QadSimStore's rows and has the seam's handler signature", () => {
    expectTypeOf<{
      customers: QadSimStore["rows"];
      documents: QadSimStore["documents"];
      now: QadSimStore["now"];
    }>().toExtend<QxtendSimStore>();
    expectTypeOf<QxtendHandler>().toExtend<(req: QxtendSimRequest) => Promise<QxtendSimResponse>>();
  });
});
