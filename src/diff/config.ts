// The config diff: what a container started from each image would get — environment, entrypoint,
// command, user, working directory, exposed ports, volumes, labels, stop signal — and the
// platform. Lists of values compare as lists (order matters for entrypoint and command), sets as
// sets (ports, volumes), maps key by key (environment, labels).

/** The parts of an image config (OCI or Docker) the diff reads. */
export interface ImageConfigView {
  readonly architecture?: string;
  readonly os?: string;
  readonly variant?: string;
  readonly config?: {
    readonly Env?: readonly string[] | null;
    readonly Entrypoint?: readonly string[] | null;
    readonly Cmd?: readonly string[] | null;
    readonly User?: string;
    readonly WorkingDir?: string;
    readonly ExposedPorts?: Readonly<Record<string, unknown>> | null;
    readonly Volumes?: Readonly<Record<string, unknown>> | null;
    readonly Labels?: Readonly<Record<string, string>> | null;
    readonly StopSignal?: string;
  };
}

export interface MapDiff {
  readonly added: readonly { readonly key: string; readonly value: string }[];
  readonly removed: readonly { readonly key: string; readonly value: string }[];
  readonly changed: readonly { readonly key: string; readonly from: string; readonly to: string }[];
}

export interface SetDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** A value on each side; absent on a side that does not set it. */
export interface ValueChange<T> {
  readonly from?: T;
  readonly to?: T;
}

export interface ConfigDiff {
  readonly env: MapDiff;
  readonly labels: MapDiff;
  readonly exposedPorts: SetDiff;
  readonly volumes: SetDiff;
  /** Present only when they differ. */
  readonly entrypoint?: ValueChange<readonly string[]>;
  readonly cmd?: ValueChange<readonly string[]>;
  readonly user?: ValueChange<string>;
  readonly workingDir?: ValueChange<string>;
  readonly stopSignal?: ValueChange<string>;
  /** os/architecture[/variant]. */
  readonly platform?: ValueChange<string>;
}

function envMap(env: readonly string[] | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of env ?? []) {
    const eq = item.indexOf("=");
    // The last setting of a name wins, as in the runtime.
    if (eq < 0) out.set(item, "");
    else out.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return out;
}

function diffMaps(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): MapDiff {
  const added: { key: string; value: string }[] = [];
  const removed: { key: string; value: string }[] = [];
  const changed: { key: string; from: string; to: string }[] = [];
  for (const [key, value] of b) {
    const was = a.get(key);
    if (was === undefined) added.push({ key, value });
    else if (was !== value) changed.push({ key, from: was, to: value });
  }
  for (const [key, value] of a) if (!b.has(key)) removed.push({ key, value });
  const byKey = (x: { key: string }, y: { key: string }) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
  return { added: added.sort(byKey), removed: removed.sort(byKey), changed: changed.sort(byKey) };
}

function diffSets(a: readonly string[], b: readonly string[]): SetDiff {
  const sa = new Set(a);
  const sb = new Set(b);
  return {
    added: [...sb].filter((x) => !sa.has(x)).sort(),
    removed: [...sa].filter((x) => !sb.has(x)).sort(),
  };
}

function change<T>(
  a: T | undefined,
  b: T | undefined,
  same: (x: T, y: T) => boolean,
): ValueChange<T> | undefined {
  if (a === undefined && b === undefined) return undefined;
  if (a !== undefined && b !== undefined && same(a, b)) return undefined;
  return { ...(a === undefined ? {} : { from: a }), ...(b === undefined ? {} : { to: b }) };
}

const sameList = (x: readonly string[], y: readonly string[]): boolean =>
  x.length === y.length && x.every((v, i) => v === y[i]);
const sameText = (x: string, y: string): boolean => x === y;
/** An empty string or list is the same as none. */
const text = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v);
const list = (v: readonly string[] | null | undefined): readonly string[] | undefined =>
  v === null || v === undefined || v.length === 0 ? undefined : v;

const platformOf = (c: ImageConfigView): string | undefined =>
  c.os === undefined && c.architecture === undefined
    ? undefined
    : `${c.os ?? "?"}/${c.architecture ?? "?"}${c.variant === undefined ? "" : `/${c.variant}`}`;

/** What changed from `before` to `after`. */
export function diffConfigs(before: ImageConfigView, after: ImageConfigView): ConfigDiff {
  const a = before.config ?? {};
  const b = after.config ?? {};
  const entrypoint = change(list(a.Entrypoint), list(b.Entrypoint), sameList);
  const cmd = change(list(a.Cmd), list(b.Cmd), sameList);
  const user = change(text(a.User), text(b.User), sameText);
  const workingDir = change(text(a.WorkingDir), text(b.WorkingDir), sameText);
  const stopSignal = change(text(a.StopSignal), text(b.StopSignal), sameText);
  const platform = change(platformOf(before), platformOf(after), sameText);
  return {
    env: diffMaps(envMap(a.Env), envMap(b.Env)),
    labels: diffMaps(new Map(Object.entries(a.Labels ?? {})), new Map(Object.entries(b.Labels ?? {}))),
    exposedPorts: diffSets(Object.keys(a.ExposedPorts ?? {}), Object.keys(b.ExposedPorts ?? {})),
    volumes: diffSets(Object.keys(a.Volumes ?? {}), Object.keys(b.Volumes ?? {})),
    ...(entrypoint === undefined ? {} : { entrypoint }),
    ...(cmd === undefined ? {} : { cmd }),
    ...(user === undefined ? {} : { user }),
    ...(workingDir === undefined ? {} : { workingDir }),
    ...(stopSignal === undefined ? {} : { stopSignal }),
    ...(platform === undefined ? {} : { platform }),
  };
}

/** Whether a config diff has nothing to show. */
export function configUnchanged(d: ConfigDiff): boolean {
  const empty = (m: MapDiff) => m.added.length + m.removed.length + m.changed.length === 0;
  return (
    empty(d.env) &&
    empty(d.labels) &&
    d.exposedPorts.added.length +
      d.exposedPorts.removed.length +
      d.volumes.added.length +
      d.volumes.removed.length ===
      0 &&
    d.entrypoint === undefined &&
    d.cmd === undefined &&
    d.user === undefined &&
    d.workingDir === undefined &&
    d.stopSignal === undefined &&
    d.platform === undefined
  );
}
