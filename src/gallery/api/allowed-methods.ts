// The methods each API path is served with, read from the route table: a path asked with a
// method it does not serve answers 405 with `Allow`, a path no route has answers 404.
import type { ApiRoute } from "./route.ts";

export interface PathMethods {
  /** Methods the path is served with, or undefined when no route has the path. */
  (path: string): readonly string[] | undefined;
}

/** Paths relative to the API prefix; `extra` adds routes mounted outside the table. */
export function pathMethods(
  routes: readonly Pick<ApiRoute, "method" | "path">[],
  extra: readonly Pick<ApiRoute, "method" | "path">[] = [],
): PathMethods {
  const patterns = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const route of [...routes, ...extra]) {
    const entry = patterns.get(route.path) ?? { pattern: toPattern(route.path), methods: new Set() };
    entry.methods.add(route.method);
    patterns.set(route.path, entry);
  }
  return (path) => {
    const methods = new Set<string>();
    for (const { pattern, methods: served } of patterns.values()) {
      if (pattern.test(path)) for (const method of served) methods.add(method);
    }
    return methods.size === 0 ? undefined : [...methods];
  };
}

function toPattern(path: string): RegExp {
  const source = path
    .split("/")
    .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}
