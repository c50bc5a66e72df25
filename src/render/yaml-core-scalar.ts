import { isScalar, type ScalarTag, type Tags } from "yaml";

// The YAML 1.2 core schema as the `yaml` package resolves it (schema/core/*.js), in its
// order, with its conversions (parseInt keeps `-0`; `0o`/`0x` have no sign). Both parsers
// must type plain scalars exactly alike, so this mirrors that package, not the spec text.
const nullText = /^(?:~|[Nn]ull|NULL)?$/;
const boolText = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const octText = /^0o[0-7]+$/;
const intText = /^[-+]?[0-9]+$/;
const hexText = /^0x[0-9a-fA-F]+$/;
const infNanText = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const expText = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const floatText = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
/** The spellings of infinity and NaN that mean it; any other number too big for a double is text. */
const nonFiniteLiteral = /^[-+]?\.(?:inf|nan)$/i;

/**
 * Resolves the text of a plain scalar as the YAML 1.2 core schema does (null, bool, int,
 * float, else the string itself), with one exception: a number that overflows a double
 * (`7e12345`, a short image SHA that kustomize prints unquoted) stays its text, as Go YAML
 * reads it, rather than becoming Infinity.
 */
export function resolveCoreScalar(text: string): unknown {
  const c = text.charCodeAt(0);
  // Only these first characters can start a null, bool or number: the common case exits here.
  const numeric = (c >= 0x2b && c <= 0x39) || c === 0x7e; // + , - . / 0-9 ~
  if (!numeric && c !== 0x6e && c !== 0x4e && c !== 0x74 && c !== 0x54 && c !== 0x66 && c !== 0x46 && text !== "") return text;
  if (nullText.test(text)) return null;
  if (boolText.test(text)) return c === 0x74 || c === 0x54;
  let n: number;
  if (octText.test(text)) n = parseInt(text.substring(2), 8);
  else if (intText.test(text)) n = parseInt(text, 10);
  else if (hexText.test(text)) n = parseInt(text.substring(2), 16);
  else if (infNanText.test(text)) return text.slice(-3).toLowerCase() === "nan" ? NaN : c === 0x2d ? -Infinity : Infinity;
  else if (expText.test(text) || floatText.test(text)) n = parseFloat(text);
  else return text;
  return Number.isFinite(n) ? n : text;
}

/**
 * The `customTags` option for the `yaml` package that applies the overflow rule of
 * {@link resolveCoreScalar}: its int and float tags answer the text instead of Infinity.
 */
export function keepOverflowAsText(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag !== "object" || (tag.tag !== "tag:yaml.org,2002:int" && tag.tag !== "tag:yaml.org,2002:float")) return tag;
    const scalarTag = tag as ScalarTag;
    const wrapped: ScalarTag = {
      ...scalarTag,
      resolve(text, onError, options) {
        const res = scalarTag.resolve(text, onError, options);
        const value = isScalar(res) ? res.value : res;
        return typeof value === "number" && !Number.isFinite(value) && !nonFiniteLiteral.test(text) ? text : res;
      },
    };
    return wrapped;
  });
}
