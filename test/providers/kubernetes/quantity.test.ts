import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { KObject } from "../../../src/core/object.ts";
import { getPath } from "../../../src/core/object.ts";
import { formatQuantity, parseQuantity, QuantityFormat, storedQuantity } from "../../../src/providers/kubernetes/quantity.ts";
import { recorded } from "./recordings.ts";

// What the API server stores for what was written into a quantity field. The first rows are
// the forms the recordings show (08-normalization/02); the rest follow apimachinery's own
// tables (quantity_test.go: TestQuantityParse, TestQuantityString, TestQuantityParseEmit).
const stored: readonly [input: string | number, stored: string][] = [
  // 08-normalization/02: written → stored
  ["1000m", "1"],
  ["1024Mi", "1Gi"],
  ["0.5", "500m"],
  ["128974848", "128974848"],
  ["1G", "1G"],
  // DecimalSI
  ["1", "1"],
  ["1000", "1k"],
  ["2000m", "2"],
  ["1500m", "1500m"],
  ["100m", "100m"],
  ["1.5", "1500m"],
  ["0.001", "1m"],
  ["1000M", "1G"],
  ["50k", "50k"],
  // the server keeps a text its fast path finds canonical, even with a fraction
  ["100.035k", "100.035k"],
  ["10.035M", "10.035M"],
  ["0.0005k", "500m"],
  ["8.1k", "8100"],
  ["7.123456M", "7.123456M"],
  ["7.12345M", "7123450"],
  ["2.5P", "2500T"],
  ["12E", "12E"],
  ["1080m", "1080m"],
  ["1.08", "1080m"],
  ["3.001n", "4n"],
  ["0.0000000001", "1n"],
  ["0.00000012345", "124n"],
  ["0", "0"],
  ["0m", "0"],
  ["0Gi", "0"],
  ["1.", "1."],
  [".001", "1m"],
  // BinarySI
  ["1Ki", "1Ki"],
  ["1Gi", "1Gi"],
  ["2048Mi", "2Gi"],
  ["1536Mi", "1536Mi"],
  ["1.5Gi", "1536Mi"],
  ["0.5Mi", "512Ki"],
  ["0.5Ki", "512"],
  ["1025Ki", "1025Ki"],
  ["1024Ki", "1Mi"],
  [".001Ki", "1024m"],
  [".000000000001Ki", "2n"],
  ["9Ei", "9223372036854775807"],
  // DecimalExponent: the exponent form stays an exponent form
  ["1e3", "1e3"],
  ["1E6", "1E6"],
  ["1e4", "10e3"],
  ["1.5e3", "1500"],
  ["1.2e3", "1200"],
  ["1E-3", "1E-3"],
  ["0.5e-9", "1e-9"],
  ["1.1E-9", "2e-9"],
  // numbers, as YAML gives them for `cpu: 1` or `cpu: 0.5`
  [1, "1"],
  [2, "2"],
  [0.5, "500m"],
  [1000, "1k"],
  [1073741824, "1073741824"],
  // surrounding spaces are ignored
  [" 1000m ", "1"],
];

describe("storedQuantity", () => {
  for (const [input, expected] of stored) {
    it(`${JSON.stringify(input)} is stored as ${JSON.stringify(expected)}`, () => assert.equal(storedQuantity(input), expected));
  }

  it("leaves what is not a quantity alone", () => {
    for (const value of ["", "1.1.M", "0.1mi", "aoeu", "1i", "1K", "1 Gi", "-3.01e-", true, null, {}, Number.NaN]) {
      assert.equal(storedQuantity(value), undefined, JSON.stringify(value));
    }
  });

  it("gives each value of the recorded Deployment the form the server stored", () => {
    const exchange = recorded("08-normalization/02-apply-deployment-noncanonical-quantities-create-201.json");
    const sent = parse(exchange.request.body as string) as KObject;
    const sentResources = resourcesOf(sent);
    const storedResources = resourcesOf(exchange.response.body as KObject);
    for (const kind of ["limits", "requests"]) {
      for (const [name, value] of Object.entries(sentResources[kind] ?? {})) {
        assert.equal(storedQuantity(value), storedResources[kind]?.[name], `${kind}.${name}: ${value}`);
      }
    }
  });

  it("is stable: what it gives is stored as it is", () => {
    for (const [input] of stored) {
      const once = storedQuantity(input);
      assert.equal(storedQuantity(once), once, JSON.stringify(input));
    }
  });
});

describe("parseQuantity and formatQuantity", () => {
  it("keeps the format of the suffix", () => {
    assert.equal(parseQuantity("1Gi")?.format, QuantityFormat.BinarySI);
    assert.equal(parseQuantity("1G")?.format, QuantityFormat.DecimalSI);
    assert.equal(parseQuantity("1e9")?.format, QuantityFormat.DecimalExponent);
    // a binary value under 1 is written in decimal
    assert.equal(parseQuantity("0.000000000001Ki")?.format, QuantityFormat.DecimalSI);
  });

  it("keeps a canonical text verbatim, and only then", () => {
    assert.equal(parseQuantity("100m")?.verbatim, "100m");
    assert.equal(parseQuantity("1Gi")?.verbatim, "1Gi");
    assert.equal(parseQuantity("1000m")?.verbatim, undefined);
    assert.equal(parseQuantity("1024Mi")?.verbatim, undefined);
  });

  it("writes negative values with their sign", () => {
    assert.equal(formatQuantity(parseQuantity("-1.5") ?? assert.fail()), "-1500m");
    assert.equal(formatQuantity(parseQuantity("-2048Mi") ?? assert.fail()), "-2Gi");
  });
});

// The resources of the first container of a Deployment.
function resourcesOf(deployment: KObject): Record<string, Record<string, string>> {
  const containers = getPath(deployment, ["spec", "template", "spec", "containers"]) as KObject[];
  return (containers[0]?.["resources"] ?? {}) as Record<string, Record<string, string>>;
}
