// Running a build: stages, COPY/ADD sources from the context, ignore files.
export { build, buildWorkDir, type BuildOptions, type BuildResult } from "./engine.ts";
export { loadIgnore, parseIgnore, isIgnored } from "./ignore.ts";
export { resolveInRoot } from "./paths.ts";
export { runInRoot, type RunSpec, type RunOutcome } from "./run.ts";
export {
  cacheKey,
  createLayerCache,
  hashSources,
  NO_CACHE,
  withImportedEntries,
  type CacheEntry,
  type LayerCache,
} from "./cache.ts";
