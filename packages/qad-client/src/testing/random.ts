/** A small seeded PRNG (mulberry32): deterministic data and fault probabilities (from the private HTTP kernel). @internal */
export { seededRandom } from "@ml/http-kernel";
