// Repository globs (access rules, policy scopes): `*` matches any characters of one path
// component (no `/`), `**` matches any characters including `/`; everything else matches itself.

const GLOB_CHARS = /^[a-z0-9._/*-]+$/;

/** Why `glob` is not a usable repository glob, or undefined when it is. */
export function checkRepositoryGlob(glob: string): string | undefined {
  if (glob.length === 0) return "empty glob";
  if (!GLOB_CHARS.test(glob)) {
    return "use lowercase letters, digits, . _ - / and the wildcards * and **";
  }
  if (glob.includes("***")) return "use * (within a component) or ** (across components), not ***";
  return undefined;
}

/** A matcher for a glob that checkRepositoryGlob accepted. */
export function compileRepositoryGlob(glob: string): (repository: string) => boolean {
  const source = glob
    .split("**")
    .map((part) =>
      part
        .split("*")
        .map((literal) => literal.replace(/[.\\^$+?()[\]{}|/-]/g, "\\$&"))
        .join("[^/]*"),
    )
    .join(".*");
  const re = new RegExp(`^${source}$`);
  return (repository) => re.test(repository);
}
