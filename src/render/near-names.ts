/**
 * The declared name that `name` most likely misspells: the same letters in another case, or
 * a small edit (an insertion, deletion, substitution or swap of neighbours) ignoring case. How
 * small depends on the declared name's length, so that short names do not match everything:
 * none below 4 characters (case only), one up to 7, two from 8. Ties go to the alphabetically
 * first name. Undefined when nothing is that close.
 */
export function nearestName(name: string, declared: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of declared) {
    if (candidate === name) continue;
    const allowed = allowedEdits(candidate);
    const other = candidate.toLowerCase();
    if (Math.abs(other.length - lower.length) > allowed) continue;
    const distance = other === lower ? 0 : editDistance(lower, other);
    if (distance > allowed) continue;
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function allowedEdits(declared: string): number {
  if (declared.length >= 8) return 2;
  return declared.length >= 4 ? 1 : 0;
}

/** Optimal string alignment distance: Levenshtein plus the swap of two neighbouring characters. */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1);
      current.push(d);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}
