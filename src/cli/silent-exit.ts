// The outcome of a command that printed what it had to say itself (help, the version, a
// container's own exit status): parsing and running stop with this exit code and no message.

/** Thrown after help or the version was printed, so parsing stops without an error message. */
export class SilentExit extends Error {
  constructor(readonly exitCode: number = 0) {
    super("(output printed)");
  }
}
