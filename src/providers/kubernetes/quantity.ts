/**
 * Kubernetes resource quantities (`500m`, `1Gi`, `1e3`) as the API server reads and writes them
 * (apimachinery `resource.Quantity`): the value is parsed exactly, remembers the kind of suffix
 * it was written with, and is written back in canonical form unless the server keeps the string
 * as sent. `storedQuantity("1000m")` is `"1"`, so a manifest that says `cpu: 1000m` can be
 * compared with the `cpu: "1"` the server stores, and applied in the form it will be stored.
 */

/** How a quantity is written: by the suffix it was parsed with. */
export const QuantityFormat = {
  /** `""`, `m`, `k`, `M`, `G`, ... (powers of 1000), and plain numbers. */
  DecimalSI: "DecimalSI",
  /** `Ki`, `Mi`, `Gi`, ... (powers of 1024). */
  BinarySI: "BinarySI",
  /** `e3`, `E-6`: a power of ten. */
  DecimalExponent: "DecimalExponent",
} as const;
/** One of {@link QuantityFormat}. */
export type QuantityFormat = (typeof QuantityFormat)[keyof typeof QuantityFormat];

/** A parsed quantity: exactly `mantissa × 10^exponent`. */
export interface Quantity {
  readonly mantissa: bigint;
  readonly exponent: number;
  readonly format: QuantityFormat;
  /** The text as written, when the server keeps it verbatim (it was already canonical on its fast path). */
  readonly verbatim?: string;
}

const decimalSuffixes: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalSuffixOf = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binarySuffixOf = new Map(Object.entries(binarySuffixes).map(([s, e]) => [e / 10, s]));
const maxInt64 = (1n << 63n) - 1n;
/** Exponents past this are not quantities anyone writes; they are left to the server to judge. */
const exponentLimit = 400;

interface Parts {
  readonly positive: boolean;
  /** The number as written: sign, digits and fraction, without the suffix. */
  readonly number: string;
  /** Integer digits without leading zeros ("0" when none), and fraction digits. */
  readonly num: string;
  readonly denom: string;
  readonly suffix: string;
}

/**
 * Parses a quantity as `resource.ParseQuantity` does (its fast path, its exact path for long or
 * fine values, rounding up to nano units, the BinarySI cap at 2^63-1). Undefined when the text
 * is not a quantity.
 */
export function parseQuantity(text: string): Quantity | undefined {
  if (text === "") return undefined;
  if (text === "0") return { mantissa: 0n, exponent: 0, format: QuantityFormat.DecimalSI, verbatim: text };
  const parts = splitQuantity(text);
  if (parts === undefined) return undefined;
  const suffix = interpretSuffix(parts.suffix);
  if (suffix === undefined || Math.abs(suffix.exponent) > exponentLimit) return undefined;
  return fastPath(text, parts, suffix) ?? exactPath(parts, suffix);
}

// The int64 path, where the server keeps the text when it is already canonical.
function fastPath(text: string, p: Parts, s: { base: 2 | 10; exponent: number; format: QuantityFormat }): Quantity | undefined {
  let scale = 0;
  let multiplier = 1n;
  let precision: number;
  if (s.format === QuantityFormat.BinarySI) {
    if (s.exponent < 0 || p.denom !== "") return undefined;
    multiplier = 1n << BigInt(s.exponent);
    precision = 15 - p.num.length - Math.trunc((s.exponent * 3) / 10) - 1;
  } else {
    scale = s.exponent;
    precision = 18 - (p.num.length + p.denom.length);
  }
  if (precision < 0) return undefined;
  scale -= p.denom.length;
  if (scale < -9) return undefined;
  const shifted = p.num + p.denom;
  const value = BigInt(shifted);
  const magnitude = value * multiplier;
  if (magnitude > maxInt64) return undefined;
  const mantissa = p.positive ? magnitude : -magnitude;
  const kept =
    s.format === QuantityFormat.BinarySI
      ? s.exponent % 10 === 0 && (value & 7n) !== 0n
      : scale % 3 === 0 && !shifted.endsWith("000") && !shifted.startsWith("0");
  return { mantissa, exponent: scale, format: s.format, ...(kept ? { verbatim: text } : {}) };
}

// The arbitrary-precision path: round up to nano units, cap BinarySI, never kept verbatim.
function exactPath(p: Parts, s: { base: 2 | 10; exponent: number; format: QuantityFormat }): Quantity | undefined {
  const digits = /^[+-]?(\d*)(?:\.(\d*))?$/.exec(p.number);
  if (digits === null) return undefined;
  const intPart = digits[1] ?? "";
  const frac = digits[2] ?? "";
  let mantissa = BigInt(`${intPart}${frac}` || "0");
  let exponent = -frac.length;
  if (s.base === 10) exponent += s.exponent;
  else mantissa <<= BigInt(s.exponent);
  if (mantissa !== 0n && exponent < -9) {
    const divisor = 10n ** BigInt(-9 - exponent);
    mantissa = mantissa / divisor + (mantissa % divisor === 0n ? 0n : 1n);
    exponent = -9;
  }
  let format = s.format;
  if (format === QuantityFormat.BinarySI) {
    if (compareScaled(mantissa, exponent, maxInt64) > 0) {
      mantissa = maxInt64;
      exponent = 0;
    }
    if (mantissa > 0n && compareScaled(mantissa, exponent, 1n) < 0) format = QuantityFormat.DecimalSI;
  }
  return { mantissa: p.positive ? mantissa : -mantissa, exponent, format };
}

// Sign of (mantissa × 10^exponent) − n, for mantissa ≥ 0.
function compareScaled(mantissa: bigint, exponent: number, n: bigint): number {
  const [a, b] = exponent >= 0 ? [mantissa * 10n ** BigInt(exponent), n] : [mantissa, n * 10n ** BigInt(-exponent)];
  return a === b ? 0 : a > b ? 1 : -1;
}

/** Splits text as `parseQuantityString`: sign, digits, `.` and digits, then the suffix. */
function splitQuantity(text: string): Parts | undefined {
  const m = /^([+-]?)(0*)(\d*)(?:\.(\d*))?([eEinumkKMGTP]*(?:[+-]?\d+)?)$/.exec(text);
  if (m === null) return undefined;
  const [, sign = "", , digits = "", denom = "", suffix = ""] = m;
  const number = text.slice(0, text.length - suffix.length);
  return { positive: sign !== "-", number, num: digits === "" ? "0" : digits, denom, suffix };
}

function interpretSuffix(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  const dec = decimalSuffixes[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: QuantityFormat.DecimalSI };
  const bin = binarySuffixes[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: QuantityFormat.BinarySI };
  if (/^[eE][+-]?\d+$/.test(suffix)) return { base: 10, exponent: Number(suffix.slice(1)), format: QuantityFormat.DecimalExponent };
  return undefined;
}

/**
 * The canonical text of a quantity (`Quantity.String()` without a kept string): no fraction
 * digits, the largest exponent that loses nothing, in the format it was parsed with. BinarySI
 * values under 1024, or not whole, are written as DecimalSI.
 */
export function formatQuantity(q: Quantity): string {
  if (q.mantissa === 0n) return "0";
  if (q.format === QuantityFormat.BinarySI) {
    const whole = wholeValue(q);
    if (whole !== undefined && (whole <= -1024n || whole >= 1024n)) {
      let amount = whole < 0n ? -whole : whole;
      let times = 0;
      while (amount >= 1024n && amount % 1024n === 0n) {
        amount /= 1024n;
        times++;
      }
      return `${whole < 0n ? "-" : ""}${amount}${binarySuffixOf.get(times) ?? ""}`;
    }
  }
  const negative = q.mantissa < 0n;
  let amount = negative ? -q.mantissa : q.mantissa;
  let exponent = q.exponent;
  while (amount >= 10n && amount % 10n === 0n) {
    amount /= 10n;
    exponent++;
  }
  const down = ((exponent % 3) + 3) % 3;
  amount *= 10n ** BigInt(down);
  exponent -= down;
  const suffix = q.format === QuantityFormat.DecimalExponent ? (exponent === 0 ? "" : `e${exponent}`) : (decimalSuffixOf.get(exponent) ?? "");
  return `${negative ? "-" : ""}${amount}${suffix}`;
}

function wholeValue(q: Quantity): bigint | undefined {
  if (q.exponent >= 0) return q.mantissa * 10n ** BigInt(q.exponent);
  const divisor = 10n ** BigInt(-q.exponent);
  return q.mantissa % divisor === 0n ? q.mantissa / divisor : undefined;
}

/**
 * What the API server stores for a value written into a quantity field: the text it keeps, or
 * the canonical form. A number is read as its JSON text (`0.5` is `500m`), and surrounding
 * spaces are ignored, as the server does. Undefined when the value is not a quantity.
 */
export function storedQuantity(value: unknown): string | undefined {
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return undefined;
    text = Number.isInteger(value) && Math.abs(value) < 1e21 ? BigInt(value).toString() : String(value);
  } else if (typeof value === "string") {
    text = value.trim();
  } else {
    return undefined;
  }
  const q = parseQuantity(text);
  if (q === undefined) return undefined;
  return q.verbatim ?? formatQuantity(q);
}
