// Rules on where the image comes from and how it was named:
// - galleryOnly: the reference is a gallery version, channel, `latest`, or a digest a version
//   pins; an ordinary tag, a plain repository or a digest outside every version fails.
// - noMovableTags: asked by digest, or by a tag that pins: a gallery version, or a tag of the form
//   `MAJOR.MINOR.PATCH` (optional leading `v`, optional `-pre` / `+build` suffix). `latest`, gallery
//   channels and every other tag (`stable`, `1.4`, `main`) fail.
// - lifecycle: the gallery version is in none of the denied states (default: revoked, end-of-life,
//   deleted); an image outside every gallery has no lifecycle and passes.
// - allowedBases: the image records a base that is a version of one of the named gallery
//   definitions (`GALLERY/NAME`, globs as in repository scopes).
import { checkRepositoryGlob, compileRepositoryGlob } from "../../oci/index.ts";
import { unavailableReason, type ImageFacts, type VersionStateFact } from "../facts.ts";
import type { Problems } from "../errors.ts";
import { describeKind, isDict, readStrings, short, unknownKeys, type Rule } from "../rule.ts";

const galleryName = (facts: ImageFacts): string =>
  facts.gallery === undefined ? "" : `${facts.gallery.gallery}/${facts.gallery.image}`;

export function readGalleryOnly(value: unknown, problems: Problems): Rule | undefined {
  if (value === false) return undefined;
  if (value !== true) return problems.add([], `expected true, got ${describeKind(value)}`);
  return {
    name: "galleryOnly",
    check(facts: ImageFacts): string | undefined {
      const missing = unavailableReason(facts, "gallery");
      if (missing !== undefined) return `gallery facts unavailable: ${missing}`;
      const gallery = facts.gallery;
      if (gallery === undefined)
        return facts.tag === undefined
          ? `${facts.repository}@${short(facts.digest)} is not a version of any gallery`
          : `${facts.repository}:${facts.tag} is not a gallery version`;
      if (gallery.ref === "tag")
        return `tag ${JSON.stringify(facts.tag ?? "")} is not a version or channel of ${galleryName(facts)}`;
      return undefined;
    },
  };
}

export const VERSION_TAG =
  /^v?(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export function readNoMovableTags(value: unknown, problems: Problems): Rule | undefined {
  if (value === false) return undefined;
  if (value !== true) return problems.add([], `expected true, got ${describeKind(value)}`);
  return {
    name: "noMovableTags",
    check(facts: ImageFacts): string | undefined {
      const tag = facts.tag;
      if (tag === undefined) return undefined;
      if (tag === "latest") return `tag "latest" is movable: pin a version or a digest`;
      const ref = facts.gallery?.ref;
      if (ref === "channel") return `channel ${JSON.stringify(tag)} is movable: pin a version or a digest`;
      if (ref === "version" || VERSION_TAG.test(tag)) return undefined;
      return `tag ${JSON.stringify(tag)} is not a version number: pin a version or a digest`;
    },
  };
}

export const LIFECYCLE_STATES = ["deprecated", "revoked", "end-of-life", "deleted"] as const;
const DEFAULT_DENIED: readonly VersionStateFact[] = ["revoked", "end-of-life", "deleted"];

export function readLifecycle(value: unknown, problems: Problems): Rule | undefined {
  if (value === false) return undefined;
  let deny: readonly string[] | undefined = DEFAULT_DENIED;
  if (isDict(value)) {
    unknownKeys(value, ["deny"], problems);
    deny = readStrings(value.deny, problems.at("deny"), (state) =>
      (LIFECYCLE_STATES as readonly string[]).includes(state)
        ? undefined
        : `expected one of ${LIFECYCLE_STATES.map((s) => `"${s}"`).join(", ")}, got ${JSON.stringify(state)}`,
    );
  } else if (value !== true) {
    return problems.add([], `expected true or { deny: [STATE, …] }, got ${describeKind(value)}`);
  }
  if (deny === undefined) return undefined;
  const denied = new Set(deny);
  return {
    name: "lifecycle",
    check(facts: ImageFacts): string | undefined {
      const missing = unavailableReason(facts, "gallery");
      if (missing !== undefined) return `gallery facts unavailable: ${missing}`;
      const gallery = facts.gallery;
      if (gallery === undefined) return undefined;
      const at = `${galleryName(facts)}:${gallery.version}`;
      const state = gallery.pastEol && gallery.state === "published" ? "end-of-life" : gallery.state;
      if (denied.has(state))
        return `${at} is ${state}${state === "end-of-life" && gallery.eol !== undefined ? ` since ${gallery.eol}` : ""}`;
      if (gallery.pastEol && denied.has("end-of-life"))
        return `${at} is past its end of life (${gallery.eol ?? ""})`;
      return undefined;
    },
  };
}

export function readAllowedBases(value: unknown, problems: Problems): Rule | undefined {
  const globs = readStrings(value, problems, (glob) => {
    const problem = checkRepositoryGlob(glob);
    return problem !== undefined
      ? `${problem}: ${JSON.stringify(glob)}`
      : glob.includes("/") || glob.includes("**")
        ? undefined
        : `expected a gallery definition GALLERY/NAME, got ${JSON.stringify(glob)}`;
  });
  if (globs === undefined) return undefined;
  const matchers = globs.map(compileRepositoryGlob);
  return {
    name: "allowedBases",
    check(facts: ImageFacts): string | undefined {
      const missing = unavailableReason(facts, "base");
      if (missing !== undefined) return `base image facts unavailable: ${missing}`;
      const base = facts.base;
      if (base === undefined) return "no base image recorded";
      if (base.definition === undefined)
        return `base ${short(base.digest)} is not a version of any gallery definition (allowed: ${globs.join(", ")})`;
      if (matchers.some((match) => match(base.definition ?? ""))) return undefined;
      return `base ${base.definition}${base.version === undefined ? "" : `:${base.version}`} is not one of ${globs.join(", ")}`;
    },
  };
}
