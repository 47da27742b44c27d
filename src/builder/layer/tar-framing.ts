// Follows a tar stream's framing (512-byte headers, each entry's data padded to 512 bytes) on
// its way to the parser, so that its end can be judged. A stream that stops right after a
// complete entry — padding and end-of-archive blocks missing, as umoci writes layers — has ended:
// the framing adds the missing zeros. A stream that stops inside a header or inside an entry's
// data was cut: that is an error saying where. Headers are read the way tar-stream reads them
// (octal or base-256 sizes, pax `size` records, no data for directories); checksums and
// everything else are left to the parser. It also keeps each entry's extended attributes
// (`SCHILY.xattr.*` pax records) as raw bytes, in entry order: the parser decodes pax values as
// UTF-8 text, which a binary value (a capability set, an ACL) does not survive.
import { Transform, type TransformCallback } from "node:stream";

const BLOCK = 512;
/** Extended headers kept for their `size` and `path` records (tar-stream refuses larger ones). */
const MAX_META = 4 * 1024 * 1024;
/** Type flags whose data describes the next entry: pax (local, global), GNU long names. */
const META = new Set(["x", "g", "L", "K", "N"]);

export class TarFramingError extends Error {
  override readonly name = "TarFramingError";
}

interface Current {
  readonly name: string;
  readonly type: string;
  readonly size: number;
}

export class TarFraming extends Transform {
  private readonly header = Buffer.alloc(BLOCK);
  private filled = 0;
  /** Data bytes of the current entry still to come, then its padding. */
  private remaining = 0;
  private padding = 0;
  private current: Current | undefined;
  private meta: Buffer[] = [];
  private metaBytes = 0;
  private globalPax: Record<string, string> = {};
  private localPax: Record<string, string> | undefined;
  private longName: string | undefined;
  private entries = 0;
  private localXattrs: Map<string, Buffer> | undefined;
  private globalXattrs: Map<string, Buffer> | undefined;
  /** Each entry's extended attributes (raw values), in order; the reader shifts one per entry. */
  readonly xattrs: (ReadonlyMap<string, Buffer> | undefined)[] = [];

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        if (this.current !== undefined && META.has(this.current.type) && this.metaBytes < MAX_META)
          this.meta.push(chunk.subarray(at, at + take));
        this.metaBytes += take;
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) this.endData();
      } else if (this.padding > 0) {
        const take = Math.min(this.padding, chunk.length - at);
        this.padding -= take;
        at += take;
      } else {
        const take = Math.min(BLOCK - this.filled, chunk.length - at);
        chunk.copy(this.header, this.filled, at, at + take);
        this.filled += take;
        at += take;
        if (this.filled === BLOCK) this.readHeader();
      }
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const after = this.current === undefined ? "" : ` after "${this.current.name}"`;
    if (this.filled > 0)
      return done(
        new TarFramingError(`the archive ends inside a header${after} (${this.filled} of ${BLOCK} bytes)`),
      );
    const current = this.current;
    if (current !== undefined && this.remaining > 0)
      return done(
        new TarFramingError(
          `the archive ends inside the data of "${current.name}" (${current.size - this.remaining} of ${current.size} bytes)`,
        ),
      );
    if (current !== undefined && META.has(current.type))
      return done(
        new TarFramingError(`the archive ends inside the extended header of entry ${this.entries + 1}`),
      );
    // Ended after a complete entry: its padding, then the two end-of-archive blocks.
    done(null, Buffer.alloc(this.padding + 2 * BLOCK));
  }

  private readHeader(): void {
    this.filled = 0;
    const block = this.header;
    if (checksum(block) === 8 * 32) {
      // A zero block: the end of the archive, or padding after it.
      this.current = undefined;
      return;
    }
    const flag = block[156] === 0 ? "0" : String.fromCharCode(block[156] ?? 0);
    let name = str(block, 0, 100);
    if (block.subarray(257, 263).toString("latin1") === "ustar\0" && block[345] !== 0)
      name = `${str(block, 345, 155)}/${name}`;
    const directory = flag === "5" || (flag === "0" && name.endsWith("/"));
    let size = octal(block.subarray(124, 136));
    const meta = META.has(flag);
    if (!meta) {
      this.entries++;
      const pax = this.localPax;
      if (pax?.["size"]) size = Number.parseInt(pax["size"], 10);
      name = pax?.["path"] ?? this.longName ?? name;
      this.localPax = undefined;
      this.longName = undefined;
      const xattrs =
        this.globalXattrs === undefined
          ? this.localXattrs
          : new Map([...this.globalXattrs, ...(this.localXattrs ?? [])]);
      this.xattrs.push(xattrs);
      this.localXattrs = undefined;
    }
    // What the parser then reads as data; a size it cannot read is its error to report.
    const data = directory || !(size >= 0) ? 0 : size;
    this.current = { name: name.slice(0, 200), type: flag, size: data };
    this.meta = [];
    this.metaBytes = 0;
    this.remaining = data;
    this.padding = data % BLOCK === 0 ? 0 : BLOCK - (data % BLOCK);
    if (data === 0) this.endData();
  }

  /** The current entry's data is complete: an extended header's records apply to the next entry. */
  private endData(): void {
    const current = this.current;
    if (current === undefined || !META.has(current.type) || this.metaBytes > MAX_META) return;
    const data = Buffer.concat(this.meta);
    this.meta = [];
    if (current.type === "x") {
      this.localPax = { ...this.globalPax, ...paxRecords(data) };
      this.localXattrs = rawXattrs(data);
    } else if (current.type === "g") {
      this.globalPax = paxRecords(data);
      this.globalXattrs = rawXattrs(data);
    } else if (current.type !== "K") this.longName = str(data, 0, data.length);
  }
}

function checksum(block: Buffer): number {
  let sum = 8 * 32;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i] ?? 0;
  return sum;
}

function str(buf: Buffer, offset: number, length: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString("utf8", offset, end < 0 || end > offset + length ? offset + length : end);
}

/** An octal number (leading spaces and NULs allowed) or a base-256 one (first byte 0x80/0xFF). */
function octal(field: Buffer): number {
  const first = field[0] ?? 0;
  if (first & 0x80) {
    if (first !== 0x80) return -1;
    let sum = 0;
    for (const byte of field.subarray(1)) sum = sum * 256 + byte;
    return sum;
  }
  const text = field.toString("latin1").replace(/^ +/, "");
  const end = text.indexOf(" ");
  const digits = (end < 0 ? text : text.slice(0, end)).replace(/^\0+/, "").replace(/\0.*$/s, "");
  return digits === "" ? 0 : Number.parseInt(digits, 8);
}

/** `LEN key=value\n` records, read as tar-stream reads them. */
function paxRecords(buf: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let rest = buf;
  while (rest.length > 0) {
    const space = rest.indexOf(32);
    const length = Number.parseInt(rest.subarray(0, space < 0 ? rest.length : space).toString(), 10);
    if (!length) break;
    const record = rest.subarray(space + 1, length - 1).toString();
    const eq = record.indexOf("=");
    if (eq < 0) break;
    records[record.slice(0, eq)] = record.slice(eq + 1);
    rest = rest.subarray(length);
  }
  return records;
}

const XATTR = Buffer.from("SCHILY.xattr.");

/** The `SCHILY.xattr.NAME=VALUE` records of a pax header, each value as the bytes it is. */
function rawXattrs(buf: Buffer): Map<string, Buffer> | undefined {
  let found: Map<string, Buffer> | undefined;
  let rest = buf;
  while (rest.length > 0) {
    const space = rest.indexOf(32);
    const length = Number.parseInt(rest.subarray(0, space < 0 ? rest.length : space).toString(), 10);
    if (!length || length > rest.length) break;
    const record = rest.subarray(space + 1, length - 1);
    if (record.subarray(0, XATTR.length).equals(XATTR)) {
      const eq = record.indexOf(61); // "="
      if (eq > XATTR.length) {
        found ??= new Map();
        found.set(record.subarray(XATTR.length, eq).toString("utf8"), Buffer.from(record.subarray(eq + 1)));
      }
    }
    rest = rest.subarray(length);
  }
  return found;
}
