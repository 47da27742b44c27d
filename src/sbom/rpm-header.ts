// RPM header blobs, as rpm keeps one per installed package in its database (the Packages table
// of rpmdb.sqlite holds them as they are, without the 8-byte magic a header has inside a .rpm).
// The format (rpm.org "RPM file format", and rpm's lib/header.c): a big-endian int32 count of
// index entries `il` and int32 size of the data store `dl`, then `il` entries of 16 bytes — tag,
// type, offset into the store, count — then the `dl` bytes of the store. Types: 0 NULL, 1 CHAR,
// 2 INT8, 3 INT16, 4 INT32, 5 INT64, 6 STRING, 7 BIN, 8 STRING_ARRAY, 9 I18NSTRING (strings are
// NUL-terminated; an I18NSTRING's first string is the untranslated one). Only the tags a package
// list needs are decoded; every offset and count is checked against the store first.
import { SbomError } from "./errors.ts";

export const RpmTag = {
  Name: 1000,
  Version: 1001,
  Release: 1002,
  Epoch: 1003,
  Summary: 1004,
  Size: 1009,
  Vendor: 1011,
  License: 1014,
  Packager: 1015,
  Arch: 1022,
  SourceRpm: 1044,
  LongSize: 5009,
} as const;

const TYPE = { STRING: 6, STRING_ARRAY: 8, I18NSTRING: 9, INT32: 4, INT64: 5 } as const;

/** Most index entries and store bytes accepted in one header (rpm's own limits). */
export const MAX_HEADER_ENTRIES = 0xffff;
export const MAX_HEADER_DATA = 256 * 1024 * 1024;

export type HeaderValue = string | number;

/**
 * The decoded tags of one header blob: strings (the first of an array or an I18N string) and
 * integers (the first value). `where` names the blob in errors.
 */
export function parseRpmHeader(blob: Buffer, where: string): Map<number, HeaderValue> {
  const fail = (why: string): never => {
    throw new SbomError(`malformed RPM header: ${why}`, { file: where });
  };
  if (blob.length < 8) fail(`${blob.length} bytes, shorter than its 8-byte preamble`);
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  if (il === 0 || il > MAX_HEADER_ENTRIES) fail(`${il} index entries (1 to ${MAX_HEADER_ENTRIES})`);
  if (dl > MAX_HEADER_DATA) fail(`a data store of ${dl} bytes (at most ${MAX_HEADER_DATA})`);
  const storeAt = 8 + il * 16;
  if (blob.length < storeAt + dl) fail(`${blob.length} bytes, but its index and store need ${storeAt + dl}`);
  const store = blob.subarray(storeAt, storeAt + dl);
  const wanted = new Set<number>(Object.values(RpmTag));
  const tags = new Map<number, HeaderValue>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    const tag = blob.readUInt32BE(at);
    const type = blob.readUInt32BE(at + 4);
    const offset = blob.readInt32BE(at + 8);
    const count = blob.readUInt32BE(at + 12);
    if (!wanted.has(tag)) continue;
    if (offset < 0 || offset >= dl) fail(`tag ${tag}: offset ${offset} outside the ${dl}-byte store`);
    if (count === 0) fail(`tag ${tag}: a count of 0`);
    if (type === TYPE.STRING || type === TYPE.STRING_ARRAY || type === TYPE.I18NSTRING) {
      const end = store.indexOf(0, offset);
      if (end < 0) fail(`tag ${tag}: a string without its terminating NUL`);
      tags.set(tag, store.toString("utf8", offset, end));
    } else if (type === TYPE.INT32) {
      if (offset % 4 !== 0 || offset + 4 > dl) fail(`tag ${tag}: an INT32 at offset ${offset}`);
      tags.set(tag, store.readUInt32BE(offset));
    } else if (type === TYPE.INT64) {
      if (offset % 8 !== 0 || offset + 8 > dl) fail(`tag ${tag}: an INT64 at offset ${offset}`);
      const value = store.readBigUInt64BE(offset);
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`tag ${tag}: ${value} is too large`);
      tags.set(tag, Number(value));
    } else fail(`tag ${tag}: unexpected type ${type}`);
  }
  return tags;
}
