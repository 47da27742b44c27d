// Validators for SBOM documents against their published JSON schemas: SPDX 2.3 (kept in
// test/fixtures/schemas, from spdx/spdx-spec) and CycloneDX 1.6 (as the CycloneDX library ships
// it, with the SPDX license-id, JSF and cryptography schemas it references).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
const cdx = join(dirname(require.resolve("@cyclonedx/cyclonedx-library/package.json")), "res/schema");
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;

function validator(schema: Record<string, unknown>, refs: Record<string, string> = {}): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // Formats ajv-formats lacks, in fields the writers never fill: accepted as any string.
  ajv.addFormat("iri-reference", true);
  ajv.addFormat("idn-email", true);
  // The CycloneDX schema names its companions by file name; they are registered under those.
  for (const [id, file] of Object.entries(refs)) ajv.addSchema({ ...readJson(join(cdx, file)), $id: id });
  return ajv.compile(schema);
}

export const validateSpdx = validator(
  readJson(new URL("../fixtures/schemas/spdx-schema-2.3.json", import.meta.url).pathname),
);

export const validateCycloneDx = validator(readJson(join(cdx, "bom-1.6.SNAPSHOT.schema.json")), {
  "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json": "spdx.SNAPSHOT.schema.json",
  "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json": "jsf-0.82.SNAPSHOT.schema.json",
  "http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json":
    "cryptography-defs.SNAPSHOT.schema.json",
});

/** The validator's errors as text, for assertion messages. */
export const schemaErrors = (v: ValidateFunction): string => JSON.stringify(v.errors, null, 1);
