// Identifiers a disk needs (file system and partition UUIDs, the ext4 hash seed, the MBR disk
// signature), derived from the source image digest and the build options instead of drawn at
// random: the same image and options give the same disk, byte for byte.
import { createHash } from "node:crypto";

function bytes(seed: string, purpose: string): Buffer {
  return createHash("sha256").update(`strata-disk\0${seed}\0${purpose}`).digest();
}

/** A version-4-shaped UUID (RFC 9562 layout) derived from `seed` for `purpose`. */
export function derivedUuid(seed: string, purpose: string): string {
  const b = bytes(seed, purpose).subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Eight hex digits (an MBR disk signature, a FAT volume id) derived from `seed` for `purpose`. */
export function derivedHex32(seed: string, purpose: string): string {
  return bytes(seed, purpose).subarray(0, 4).toString("hex");
}
