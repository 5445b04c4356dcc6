/** A small seeded PRNG (mulberry32), so simulated faults and data repeat run to run (from the private HTTP kernel). */
export { seededRandom } from "@ml/http-kernel";
