// Token scopes of the Docker token spec: `repository:NAME:pull,push` and `registry:catalog:*`.
// The name sits between the first and the last colon, so a future name with a colon still parses.
import { isRepositoryName } from "../../oci/index.ts";
import { ACTIONS, type Action } from "./types.ts";

export type Scope =
  | { readonly type: "repository"; readonly name: string; readonly actions: readonly Action[] }
  | { readonly type: "catalog" }
  | { readonly type: "other" };

/** Parses one scope; undefined when it is not `type:name:actions`. Unknown actions are dropped. */
export function parseScope(text: string): Scope | undefined {
  const first = text.indexOf(":");
  const last = text.lastIndexOf(":");
  if (first <= 0 || last === first) return undefined;
  const type = text.slice(0, first);
  const name = text.slice(first + 1, last);
  const actions = text.slice(last + 1).split(",");
  if (name === "") return undefined;
  if (type === "registry" && name === "catalog") return { type: "catalog" };
  // A resource class, as in `repository(plugin):name:pull`, is not one of ours.
  if (type !== "repository") return { type: "other" };
  if (!isRepositoryName(name)) return undefined;
  const wanted = actions.includes("*") ? ACTIONS : ACTIONS.filter((a) => actions.includes(a));
  return { type: "repository", name, actions: wanted };
}

/** `repository:NAME:a,b` for a challenge, or undefined when there is nothing to ask for. */
export function formatScope(repository: string | undefined, actions: readonly Action[]): string | undefined {
  if (repository === undefined || actions.length === 0) return undefined;
  return `repository:${repository}:${ACTIONS.filter((a) => actions.includes(a)).join(",")}`;
}
