// The vocabulary of the configuration schema: node kinds, small builders, and the types a
// schema describes — the validated value (`Out`) and what a file, the environment or overrides
// may give (`In`). The schema itself is in config-schema.ts.

interface Leaf {
  /** Absent without a default: the key may be left out. */
  readonly optional?: boolean;
  /** Never echoed in error messages (passwords, connection strings). */
  readonly secret?: boolean;
}

export interface StringNode extends Leaf {
  readonly kind: "string";
  readonly default?: string;
  /** Why a value is invalid, or undefined; `expected …` style. */
  readonly check?: (value: string) => string | undefined;
}

export interface EnumNode<T extends string = string> extends Leaf {
  readonly kind: "enum";
  readonly values: readonly T[];
  readonly default?: T;
}

export interface DurationNode extends Leaf {
  readonly kind: "duration";
  readonly default?: string;
  /** Bounds in milliseconds. */
  readonly min?: number;
  readonly max?: number;
}

export interface SizeNode extends Leaf {
  readonly kind: "size";
  readonly default?: string;
  /** Lower bound in bytes. */
  readonly min?: number;
}

export interface NumberNode extends Leaf {
  readonly kind: "number";
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
  /** Whole numbers only. */
  readonly integer?: boolean;
}

export interface BooleanNode extends Leaf {
  readonly kind: "boolean";
  readonly default?: boolean;
}

export interface ObjectNode<F extends Fields = Fields> {
  readonly kind: "object";
  readonly fields: F;
}

/** A mapping with keys chosen by the user (e.g. user names); each entry is given whole. */
export interface RecordNode<V extends ConfigNode = ConfigNode> {
  readonly kind: "record";
  readonly value: V;
}

/** A list; each item is given whole. */
export interface ListNode<I extends ConfigNode = ConfigNode> {
  readonly kind: "list";
  readonly items: I;
}

/**
 * A value read by a domain's own reader (e.g. the policies, read by policy/): given whole, checked
 * completely, problems reported with key paths below the node's.
 */
export interface ValueNode<T = unknown> {
  readonly kind: "value";
  /** The value of a missing key. */
  readonly empty: T;
  readonly read: (value: unknown) => {
    readonly value: T;
    readonly problems: readonly { readonly path: readonly (string | number)[]; readonly message: string }[];
  };
}

export type LeafNode = StringNode | EnumNode | DurationNode | SizeNode | NumberNode | BooleanNode;
export type ConfigNode = LeafNode | ObjectNode | RecordNode | ListNode | ValueNode;
export type Fields = { readonly [key: string]: ConfigNode };

type Options<N> = Omit<N, "kind">;
export const str = <const O extends Options<StringNode>>(o: O = {} as O) => ({
  kind: "string" as const,
  ...o,
});
export const oneOf = <const T extends string, const O extends Omit<Options<EnumNode<T>>, "values">>(
  values: readonly T[],
  o: O,
) => ({
  ...o,
  kind: "enum" as const,
  values,
});
export const duration = <const O extends Options<DurationNode>>(o: O) => ({
  kind: "duration" as const,
  ...o,
});
export const size = <const O extends Options<SizeNode>>(o: O) => ({ kind: "size" as const, ...o });
export const num = <const O extends Options<NumberNode>>(o: O) => ({ kind: "number" as const, ...o });
export const bool = <const O extends Options<BooleanNode>>(o: O) => ({ kind: "boolean" as const, ...o });
export const obj = <const F extends Fields>(fields: F) => ({ kind: "object" as const, fields });
export const record = <const V extends ConfigNode>(value: V) => ({ kind: "record" as const, value });
export const list = <const I extends ConfigNode>(items: I) => ({ kind: "list" as const, items });
export const value = <T>(empty: T, read: ValueNode<T>["read"]): ValueNode<T> => ({
  kind: "value",
  empty,
  read,
});

type OptionalKeys<F> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];
type ObjectOut<F> = { readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Out<F[K]> } & {
  readonly [K in OptionalKeys<F>]?: Out<F[K]>;
};

/** The validated value of a node: durations in milliseconds, sizes in bytes. */
export type Out<N> =
  N extends ValueNode<infer T>
    ? T
    : N extends { kind: "string" }
      ? string
      : N extends { kind: "enum"; values: readonly (infer T)[] }
        ? T
        : N extends { kind: "duration" | "size" | "number" }
          ? number
          : N extends { kind: "boolean" }
            ? boolean
            : N extends { kind: "object"; fields: infer F }
              ? ObjectOut<F>
              : N extends { kind: "record"; value: infer V }
                ? Readonly<Record<string, Out<V>>>
                : N extends { kind: "list"; items: infer I }
                  ? readonly Out<I>[]
                  : never;

/** What may be given for a node before validation; every key is optional. */
export type In<N> = N extends { kind: "value" }
  ? unknown
  : N extends { kind: "string" | "enum" }
    ? string
    : N extends { kind: "duration" | "size" | "number" }
      ? string | number
      : N extends { kind: "boolean" }
        ? boolean | string
        : N extends { kind: "object"; fields: infer F }
          ? { readonly [K in keyof F]?: In<F[K]> }
          : N extends { kind: "record"; value: infer V }
            ? Readonly<Record<string, In<V>>>
            : N extends { kind: "list"; items: infer I }
              ? readonly In<I>[]
              : never;
