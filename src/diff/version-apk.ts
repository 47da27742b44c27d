// Alpine version ordering, as apk orders versions (apk-tools 2's version comparison):
// `number{.number}[letter]{_suffix[number]}[-rREVISION]`, read as a sequence of tokens whose
// kinds have an order of their own: a dotted number < a first number < a letter < a suffix <
// a suffix's number < a revision < the end.
// - Tokens are compared in turn while both have one of the same kind and the same value.
// - A number after a dot that starts with `0` counts as a fraction: its leading zeros give it the
//   value −(count of zeros) and the digits after them follow as a token of their own, so
//   `1.01` < `1.1` and `1.001` < `1.01`.
// - Suffixes `_alpha` < `_beta` < `_pre` < `_rc` sort before the plain version; `_cvs` < `_svn` <
//   `_git` < `_hg` < `_p` after it (`1.2_rc1` < `1.2` < `1.2_p1`).
// - When all shared tokens are equal, the version that goes on is newer — unless what follows
//   is a pre-release suffix — and otherwise the one whose next token kind sorts lower is newer
//   (`1.2` < `1.2.1`, `1.2` < `1.2a`, `1.2a` < `1.2.1`, `1.2` < `1.2-r1`).
// - apk 2's quirk, kept: a dotted zero followed by a suffix (`1.0_rc1`) reads an empty number
//   after the zero, so it sorts after `1.0` (while `1.2_rc1` < `1.2`).
// - A version that does not follow the grammar stops at the first bad character (it is "invalid"
//   there) and compares by the tokens read so far.

const enum Kind {
  Invalid = -1,
  DottedNumber = 0,
  Number = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNumber = 4,
  Revision = 5,
  End = 6,
}

const PRE = ["alpha", "beta", "pre", "rc"];
const POST = ["cvs", "svn", "git", "hg", "p"];

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
const isLower = (c: string | undefined): boolean => c !== undefined && c >= "a" && c <= "z";

/** A cursor over a version: the kind of the token at `at`, read by `take`. */
class Tokens {
  kind: Kind = Kind.Number;
  private at = 0;
  constructor(private readonly text: string) {
    if (text.length === 0) this.kind = Kind.End;
  }

  /** Reads the token at the cursor: its value, with `kind` moved to the next token's kind. */
  take(): number {
    const s = this.text;
    let value = 0;
    let next: Kind | undefined;
    if (this.at >= s.length) {
      this.kind = Kind.End;
      return 0;
    }
    switch (this.kind) {
      case Kind.DottedNumber:
      case Kind.Number:
      case Kind.SuffixNumber:
      case Kind.Revision:
        if (this.kind === Kind.DottedNumber && s[this.at] === "0") {
          // Leading zeros after a dot: a fraction, worth −(count of zeros); the digits after
          // them are a number token of their own.
          let zeros = 0;
          while (s[this.at] === "0") {
            zeros++;
            this.at++;
          }
          value = -zeros;
          next = Kind.Number;
          break;
        }
        while (isDigit(s[this.at])) value = value * 10 + Number(s[this.at++]);
        break;
      case Kind.Letter:
        value = s.charCodeAt(this.at++);
        break;
      case Kind.Suffix: {
        const rest = s.slice(this.at);
        const pre = PRE.findIndex((p) => rest.startsWith(p));
        const post = POST.findIndex((p) => rest.startsWith(p));
        if (pre >= 0) {
          value = pre - PRE.length;
          this.at += PRE[pre]?.length ?? 0;
        } else if (post >= 0) {
          value = post;
          this.at += POST[post]?.length ?? 0;
        } else {
          this.kind = Kind.Invalid;
          return -1;
        }
        break;
      }
      default:
        this.kind = Kind.Invalid;
        return -1;
    }
    if (this.at >= s.length) this.kind = Kind.End;
    else if (next !== undefined) this.kind = next;
    else this.advance();
    return value;
  }

  /** Whether the suffix at the cursor is a pre-release one (alpha, beta, pre, rc). */
  atPreRelease(): boolean {
    const rest = this.text.slice(this.at);
    return PRE.some((p) => rest.startsWith(p));
  }

  /** Reads the separator (if any) at the cursor and sets the kind of the token after it. */
  private advance(): void {
    const s = this.text;
    const c = s[this.at];
    const previous = this.kind;
    let kind: Kind = Kind.Invalid;
    if ((previous === Kind.Number || previous === Kind.DottedNumber) && isLower(c)) kind = Kind.Letter;
    else if (previous === Kind.Letter && isDigit(c)) kind = Kind.Number;
    else if (previous === Kind.Suffix && isDigit(c)) kind = Kind.SuffixNumber;
    else {
      if (c === ".") kind = Kind.DottedNumber;
      else if (c === "_") kind = Kind.Suffix;
      else if (c === "-" && s[this.at + 1] === "r") {
        kind = Kind.Revision;
        this.at++;
      }
      this.at++;
    }
    // Kinds only move forwards, but for a few steps back the grammar allows.
    if (
      kind < previous &&
      !(kind === Kind.DottedNumber && previous === Kind.Number) &&
      !(kind === Kind.Suffix && previous === Kind.SuffixNumber) &&
      !(kind === Kind.Number && previous === Kind.Letter)
    )
      kind = Kind.Invalid;
    this.kind = kind;
  }
}

/** Orders two Alpine package versions as apk does: -1, 0 or 1. */
export function compareApkVersions(a: string, b: string): number {
  const ta = new Tokens(a);
  const tb = new Tokens(b);
  let va = 0;
  let vb = 0;
  while (ta.kind === tb.kind && ta.kind !== Kind.End && ta.kind !== Kind.Invalid && va === vb) {
    va = ta.take();
    vb = tb.take();
  }
  if (va !== vb) return va < vb ? -1 : 1;
  if (ta.kind === tb.kind) return 0;
  // Equal so far: the longer one is newer unless it goes on with a pre-release suffix.
  if (ta.kind === Kind.Suffix && ta.atPreRelease()) return -1;
  if (tb.kind === Kind.Suffix && tb.atPreRelease()) return 1;
  if (ta.kind > tb.kind) return -1;
  if (tb.kind > ta.kind) return 1;
  return 0;
}
