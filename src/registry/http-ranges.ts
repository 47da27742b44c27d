// Parsing of the Range (blob GET) and Content-Range (upload PATCH/PUT) headers.
import type { ByteRange } from "../store/index.ts";
import { RegistryError } from "./errors.ts";

/**
 * Parses `Range: bytes=a-b | bytes=a- | bytes=-n` against a blob of `size` bytes.
 * Returns undefined when the header is absent or not a single bytes range (serve the whole
 * blob, as RFC 9110 allows); throws a 416 error when the range cannot be satisfied.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === "" && m[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable(header, size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end || start >= size) {
    throw unsatisfiable(header, size);
  }
  return { start, end };
}

function unsatisfiable(header: string, size: number): RegistryError {
  return new RegistryError(
    "BLOB_UNKNOWN",
    `Range "${header}" cannot be satisfied: the blob has ${size} bytes`,
    {
      status: 416,
      headers: { "Content-Range": `bytes */${size}` },
    },
  );
}

/** Parses an upload chunk's `Content-Range: start-end` (inclusive), also accepting `bytes start-end`. */
export function parseContentRange(header: string | undefined): ByteRange | undefined {
  if (header === undefined || header === "") return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (m === null) {
    throw new RegistryError("BLOB_UPLOAD_INVALID", `Invalid Content-Range "${header}": expected start-end`, {
      status: 416,
    });
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw new RegistryError("BLOB_UPLOAD_INVALID", `Invalid Content-Range "${header}": end is before start`, {
      status: 416,
    });
  }
  return { start, end };
}

/** Content-Length as a number, undefined when absent; a malformed value is a SIZE_INVALID error. */
export function contentLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  if (!/^\d+$/.test(header)) {
    throw new RegistryError("SIZE_INVALID", `Invalid Content-Length "${header}"`);
  }
  const value = Number(header);
  if (!Number.isSafeInteger(value))
    throw new RegistryError("SIZE_INVALID", `Invalid Content-Length "${header}"`);
  return value;
}

/** Parses the `n` pagination parameter: undefined when absent, else a non-negative integer. */
export function parsePageSize(value: string | null, max: number): number | undefined {
  if (value === null) return undefined;
  if (!/^\d{1,9}$/.test(value)) {
    throw new RegistryError(
      "UNSUPPORTED",
      `Invalid query parameter "n" "${value}": expected a non-negative integer`,
      {
        status: 400,
      },
    );
  }
  return Math.min(Number(value), max);
}
