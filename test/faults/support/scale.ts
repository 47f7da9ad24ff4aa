/**
 * The suite's two sizes: the CI run (the default, a few minutes on two cores)
 * and the soak run (`SLUICE_SOAK=1`), longer and heavier, for local use.
 * Every count and duration a scenario uses comes from {@link scale}.
 */
export const SOAK = process.env["SLUICE_SOAK"] === "1";

/** `ci` in CI mode, `soak` with SLUICE_SOAK=1. */
export function scale<T>(ci: T, soak: T): T {
  return SOAK ? soak : ci;
}

/**
 * The seed of the suite's random choices: SLUICE_FAULT_SEED when set (to
 * replay a failed run), else a fresh one. Printed by every scenario that uses it.
 */
export function faultSeed(): number {
  const env = process.env["SLUICE_FAULT_SEED"];
  if (env !== undefined && env !== "") return Number(env) >>> 0;
  return (Math.random() * 2 ** 32) >>> 0;
}

/** A small deterministic PRNG (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
