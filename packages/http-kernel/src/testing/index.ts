/**
 * Test helpers shared by every package's tests: the hostile loopback servers, injected time, async collectors and
 * failure helpers. Test-only: never bundled into a client's `dist` (imported as `@ml/http-kernel/testing` by tests).
 */
export * from "./collect.js";
export * from "./failing.js";
export * from "./hostile-server.js";
export * from "./manual-clock.js";
