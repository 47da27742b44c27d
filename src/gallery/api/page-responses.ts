// Answers of the paged reads the console uses on large galleries: a page of a definition's
// versions with its cursors, and the search across definitions and versions.
import { Type } from "@sinclair/typebox";
import { DefinitionOut, VersionOut } from "./responses.ts";

const strict = { additionalProperties: false } as const;
const count = (description: string) => Type.Integer({ minimum: 0, description });
const cursor = (description: string) => Type.Optional(Type.String({ description }));

export const VersionPageOut = Type.Object(
  {
    versions: Type.Array(VersionOut),
    total: count("Versions matching the filters, on every page"),
    offset: count("How many matching versions rank above this page's first"),
    next: cursor("Pass as `after` for the next page (lower numbers); absent on the last page"),
    previous: cursor("Pass as `before` for the previous page (higher numbers); absent on the first page"),
  },
  { ...strict, $id: "VersionPage" },
);

const found = <T extends Parameters<typeof Type.Array>[0]>(items: T, description: string) =>
  Type.Object(
    {
      items: Type.Array(items),
      total: count(`${description} matching, on every page`),
      next: cursor("Pass as `after` (with `kind`) for the next page"),
    },
    strict,
  );

export const SearchOut = Type.Object(
  {
    definitions: found(DefinitionOut, "Definitions"),
    versions: found(VersionOut, "Versions"),
  },
  { ...strict, $id: "SearchResults" },
);
