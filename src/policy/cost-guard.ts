import type { MeasuredSize, SizeBound, VariableSizes } from "./cel-cost.ts";

/** Distinct sizes whose verdicts one expression remembers before starting afresh. */
const CACHE_LIMIT = 4096;
/** The upper end of the search for the safe size: beyond any object gitward would render. */
const MAX_SAFE_SIZE = 2 ** 40;

/** Every variable bounded by `k` in each component. */
export function uniformSizes(variables: readonly string[], k: number): VariableSizes {
  return Object.fromEntries(variables.map((v) => [v, { c: k, n: k, l: k, t: k }]));
}

/**
 * Shapes of the "boxes" of sizes checked once at load: every component up to k, and one like
 * real objects, where collections are small next to the total size.
 */
const BOX_SHAPES: readonly SizeBound[] = [
  { c: 1, n: 1, l: 1, t: 1 },
  { c: 1 / 64, n: 1 / 32, l: 1 / 8, t: 1 },
];

/**
 * Decides cheaply whether an expression may run with variables of given sizes: answers
 * undefined when its estimated cost is within the limit, else the estimate. Sizes inside a box
 * found safe at load pass at once; others are estimated at their sizes rounded up to a grid
 * of quarter powers of two (sound, since the estimate is monotone), and the verdict is
 * remembered per grid cell. Only when that refuses is the expression estimated again with the
 * sizes of what it reads measured on the actual input (`measure`).
 */
export function costGuard(
  estimate: (sizes: VariableSizes, measured?: MeasuredSize) => number,
  variables: readonly string[],
  limit: number,
): (sizes: VariableSizes, measure: () => MeasuredSize) => number | undefined {
  const boxes = BOX_SHAPES.map((shape) => {
    const k = largestSafeSize((x) => estimate(shapedSizes(variables, shape, x)), limit);
    return { c: shape.c * k, n: shape.n * k, l: shape.l * k, t: shape.t * k };
  });
  const cache = new Map<string, boolean>();
  return (sizes, measure) => {
    if (boxes.some((box) => withinBox(sizes, box))) return undefined;
    const rounded: Record<string, SizeBound> = {};
    let key = "";
    for (const name in sizes) {
      const s = sizes[name];
      if (s === undefined) continue;
      const r = { c: roundUp(s.c), n: roundUp(s.n), l: roundUp(s.l), t: roundUp(s.t) };
      rounded[name] = r;
      key += `${name}:${r.c}:${r.n}:${r.l}:${r.t};`;
    }
    let ok = cache.get(key);
    if (ok === undefined) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      ok = estimate(rounded) <= limit;
      cache.set(key, ok);
    }
    if (ok) return undefined;
    const measured = estimate(sizes, measure());
    return measured <= limit ? undefined : measured;
  };
}

function withinBox(sizes: VariableSizes, box: SizeBound): boolean {
  for (const name in sizes) {
    const s = sizes[name];
    if (s !== undefined && (s.c > box.c || s.n > box.n || s.l > box.l || s.t > box.t)) return false;
  }
  return true;
}

function shapedSizes(variables: readonly string[], shape: SizeBound, k: number): VariableSizes {
  return Object.fromEntries(variables.map((v) => [v, { c: shape.c * k, n: shape.n * k, l: shape.l * k, t: shape.t * k }]));
}

function roundUp(x: number): number {
  return x <= 1 ? x : 2 ** (Math.ceil(4 * Math.log2(x)) / 4);
}

/** Binary search for the largest k with cost(k) within the limit; cost is monotone in k. */
function largestSafeSize(cost: (k: number) => number, limit: number): number {
  let lo = 0;
  let hi = MAX_SAFE_SIZE;
  if (cost(hi) <= limit) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (cost(mid) <= limit) lo = mid;
    else hi = mid;
  }
  return lo;
}
