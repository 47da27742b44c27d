// Fastify's JSON Schema compilers (ajv and fast-json-stringify), loaded when a route first needs
// one instead of when a Fastify instance is created. Strata's routes declare no Fastify schemas
// (the gallery API checks its input with TypeBox), so a server never loads them; they are still
// fastify's own compilers, with its defaults, for any route that declares a schema.
import { createRequire } from "node:module";
import type { FastifyServerOptions } from "fastify";

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions["schemaController"]>["compilersFactory"]
>;
type BuildValidator = NonNullable<CompilersFactory["buildValidator"]>;
type BuildSerializer = NonNullable<CompilersFactory["buildSerializer"]>;

// A require() of its own: the bundle in dist/ leaves these packages out and loads them from
// node_modules only here.
const load = createRequire(import.meta.url);

let validator: BuildValidator | undefined;
let serializer: BuildSerializer | undefined;

export const lazySchemaCompilers: CompilersFactory = {
  buildValidator: (externalSchemas, options) => {
    validator ??= (load("@fastify/ajv-compiler") as () => BuildValidator)();
    return validator(externalSchemas, options);
  },
  buildSerializer: (externalSchemas, options) => {
    serializer ??= (load("@fastify/fast-json-stringify-compiler") as () => BuildSerializer)();
    return serializer(externalSchemas, options);
  },
};
