/**
 * resource.Quantity as the API server decodes and encodes it: a value written into a quantity
 * field comes back in canonical form (`1000m` → `1`, `1024Mi` → `1Gi`, `0.5` → `500m`), except
 * that a text the parser's int64 path finds canonical is kept as sent (`100m`, `1Gi`, `1.500`).
 * A port of apimachinery's ParseQuantity and MarshalJSON, kept apart from gitward's own reading
 * of quantities so that the two are checked against each other and the recordings.
 */

type Format = "DecimalSI" | "BinarySI" | "DecimalExponent";

const decimal: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binary: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const maxAllowed = 2n ** 63n - 1n;

/** The text a quantity field holds after the server decoded `value` into it; undefined when it is no quantity. */
export function canonicalQuantity(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? encode(Number.isInteger(value) && Math.abs(value) < 1e21 ? BigInt(value).toString() : String(value)) : undefined;
  return typeof value === "string" ? encode(value.trim()) : undefined;
}

function encode(str: string): string | undefined {
  if (str === "") return undefined;
  if (str === "0") return "0";
  // parseQuantityString: [sign] [zeros] digits [. digits] suffix
  const m = /^([+-]?)0*(\d*)(?:\.(\d*))?([eEinumkKMGTP]*(?:[+-]?\d+)?)$/.exec(str);
  if (m === null) return undefined;
  const positive = m[1] !== "-";
  const num = m[2] === "" || m[2] === undefined ? "0" : m[2];
  const denom = m[3] ?? "";
  const suffix = m[4] ?? "";
  let base: 2 | 10;
  let exponent: number;
  let format: Format;
  if (decimal[suffix] !== undefined) [base, exponent, format] = [10, decimal[suffix], "DecimalSI"];
  else if (binary[suffix] !== undefined) [base, exponent, format] = [2, binary[suffix], "BinarySI"];
  else if (/^[eE][+-]?\d{1,3}$/.test(suffix)) [base, exponent, format] = [10, Number(suffix.slice(1)), "DecimalExponent"];
  else return undefined;

  let precision = -1;
  let scale = 0;
  let mantissa = 1n;
  if (format === "BinarySI") {
    if (exponent >= 0 && denom === "") {
      mantissa = 1n << BigInt(exponent);
      precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    }
  } else {
    scale = exponent;
    precision = 18 - (num.length + denom.length);
  }
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= -9) {
      const shifted = num + denom;
      const value = BigInt(shifted);
      if (value * mantissa <= maxAllowed) {
        const keep = format === "BinarySI" ? exponent % 10 === 0 && value % 8n !== 0n : scale % 3 === 0 && !shifted.endsWith("000") && shifted[0] !== "0";
        if (keep) return str;
        return canonical((positive ? 1n : -1n) * value * mantissa, scale, format);
      }
    }
  }
  // The inf.Dec path: the exact value, rounded up to nano units, BinarySI capped at 2^63-1.
  let amount = BigInt(`${num}${denom}`);
  let amountScale = denom.length;
  if (base === 10) amountScale -= exponent;
  else amount *= 1n << BigInt(exponent);
  if (amount !== 0n && amountScale > 9) {
    const div = 10n ** BigInt(amountScale - 9);
    amount = amount / div + (amount % div === 0n ? 0n : 1n);
    amountScale = 9;
  }
  if (format === "BinarySI") {
    const atScale = (n: bigint) => (amountScale >= 0 ? n * 10n ** BigInt(amountScale) : n / 10n ** BigInt(-amountScale));
    if (amount > atScale(maxAllowed)) [amount, amountScale] = [maxAllowed, 0];
    if (amount > 0n && amount < atScale(1n)) format = "DecimalSI";
  }
  return canonical(positive ? amount : -amount, -amountScale, format);
}

// CanonicalizeBytes: value × 10^exp10 written with the largest exponent that loses nothing.
function canonical(value: bigint, exp10: number, format: Format): string {
  if (value === 0n) return "0";
  const sign = value < 0n ? "-" : "";
  let abs = value < 0n ? -value : value;
  if (format === "BinarySI") {
    const whole = exp10 >= 0 ? abs * 10n ** BigInt(exp10) : abs % 10n ** BigInt(-exp10) === 0n ? abs / 10n ** BigInt(-exp10) : undefined;
    if (whole !== undefined && whole >= 1024n) {
      let n = whole;
      let times = 0;
      while (n >= 1024n && n % 1024n === 0n) {
        n /= 1024n;
        times++;
      }
      return `${sign}${n}${Object.keys(binary).find((k) => binary[k] === times * 10) ?? ""}`;
    }
    format = "DecimalSI";
  }
  let e = exp10;
  while (abs >= 10n && abs % 10n === 0n) {
    abs /= 10n;
    e++;
  }
  while (e % 3 !== 0) {
    abs *= 10n;
    e--;
  }
  const suffix = format === "DecimalExponent" ? (e === 0 ? "" : `e${e}`) : (Object.keys(decimal).find((k) => decimal[k] === e) ?? "");
  return `${sign}${abs}${suffix}`;
}
