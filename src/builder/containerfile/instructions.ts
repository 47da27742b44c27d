// The instructions a Containerfile is parsed into. Words are kept as written (variables not yet
// substituted): the build expands them with the build args and environment of their stage.

interface Base {
  /** 1-based line the instruction starts on. */
  readonly line: number;
}

export type CommandForm = { readonly exec: readonly string[] } | { readonly shell: string };

export type Instruction =
  | (Base & { readonly kind: "ARG"; readonly args: readonly { name: string; default?: string }[] })
  | (Base & { readonly kind: "ENV"; readonly pairs: readonly [string, string][] })
  | (Base & { readonly kind: "LABEL"; readonly pairs: readonly [string, string][] })
  | (Base & { readonly kind: "WORKDIR"; readonly path: string })
  | (Base & { readonly kind: "USER"; readonly user: string })
  | (Base & {
      readonly kind: "COPY" | "ADD";
      readonly sources: readonly string[];
      readonly dest: string;
      readonly chown?: string;
      readonly chmod?: string;
      /** COPY --from: a stage name or index, or an image reference. */
      readonly from?: string;
    })
  | (Base & {
      readonly kind: "RUN";
      readonly command: CommandForm;
      readonly network?: "none" | "host" | "default";
    })
  | (Base & { readonly kind: "CMD" | "ENTRYPOINT"; readonly command: CommandForm })
  | (Base & { readonly kind: "SHELL"; readonly shell: readonly string[] })
  | (Base & { readonly kind: "EXPOSE"; readonly ports: readonly string[] })
  | (Base & { readonly kind: "VOLUME"; readonly paths: readonly string[] })
  | (Base & { readonly kind: "STOPSIGNAL"; readonly signal: string })
  | (Base & { readonly kind: "MAINTAINER"; readonly maintainer: string });

export interface Stage {
  readonly index: number;
  /** `FROM … AS name`, lowercased as Docker does. */
  readonly name?: string;
  /** The base: `scratch`, a registry or gallery reference, `oci-layout:PATH:TAG`, or an earlier stage's name. */
  readonly base: string;
  readonly platform?: string;
  readonly line: number;
  readonly instructions: readonly Instruction[];
}

export interface Containerfile {
  readonly file: string;
  readonly escape: "\\" | "`";
  /** ARGs before the first FROM: usable in FROM lines, and in a stage after `ARG NAME`. */
  readonly globalArgs: readonly { name: string; default?: string }[];
  readonly stages: readonly Stage[];
}
