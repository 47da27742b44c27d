// Which format a file is, from its bytes alone: the magic numbers qemu itself probes, never the
// file name. A file that matches none is raw. Formats that are recognisable but not importable
// (an ISO, a compressed file, VHDX, QED) are named so that the refusal can say what was found.
import type { DiskBytes } from "./import-reader.ts";

export type SniffedFormat = "raw" | "qcow2" | "vhd" | "vmdk" | "vdi";

export type Sniffed =
  | { readonly kind: "disk"; readonly format: SniffedFormat }
  | { readonly kind: "iso" }
  | { readonly kind: "unsupported"; readonly what: string };

/** The ISO 9660 primary volume descriptor sits in sector 16 of a 2048-byte-sector medium. */
const ISO_MAGIC_OFFSET = 0x8001;
const VDI_SIGNATURE_OFFSET = 0x40;
const VDI_SIGNATURE = 0xbeda107f;
const VHD_FOOTER_SIZE = 512;

const ascii = (s: string) => Buffer.from(s, "latin1");

// Magic numbers at offset 0 of files that must not be imported as raw bytes.
const UNSUPPORTED: readonly { readonly magic: Buffer; readonly what: string }[] = [
  { magic: ascii("vhdxfile"), what: "a VHDX disk, which is not supported (convert it to qcow2 or raw)" },
  { magic: ascii("QED\0"), what: "a QED disk, which is not supported (convert it to qcow2 or raw)" },
  { magic: ascii("COWD"), what: "an ESX (COWD) sparse VMDK, which is not supported" },
  { magic: ascii("LUKS\xba\xbe"), what: "a LUKS-encrypted volume, not a disk" },
  { magic: Buffer.from([0x1f, 0x8b]), what: "a gzip-compressed file: decompress it first" },
  {
    magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
    what: "an xz-compressed file: decompress it first",
  },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), what: "a zstd-compressed file: decompress it first" },
];

export async function sniffFormat(bytes: DiskBytes): Promise<Sniffed> {
  const head = await bytes.read(0, 512);
  const startsWith = (magic: Buffer) => head.subarray(0, magic.length).equals(magic);
  if (startsWith(ascii("QFI\xfb"))) return disk("qcow2");
  if (isVdi(head)) return disk("vdi");
  if (startsWith(ascii("KDMV")) || startsWith(ascii("# Disk DescriptorFile"))) return disk("vmdk");
  if (startsWith(ascii("conectix"))) return disk("vhd");
  const unsupported = UNSUPPORTED.find((u) => startsWith(u.magic));
  if (unsupported !== undefined) return { kind: "unsupported", what: unsupported.what };
  // A fixed VHD is raw data followed by its footer; a VHD wrapping an ISO is still a VHD.
  if (bytes.size >= VHD_FOOTER_SIZE) {
    const tail = await bytes.read(bytes.size - VHD_FOOTER_SIZE, 8);
    if (tail.equals(ascii("conectix"))) return disk("vhd");
  }
  const iso = await bytes.read(ISO_MAGIC_OFFSET, 5);
  if (iso.equals(ascii("CD001"))) return { kind: "iso" };
  return disk("raw");
}

function isVdi(head: Buffer): boolean {
  return (
    head.length >= VDI_SIGNATURE_OFFSET + 4 &&
    head.subarray(0, 4).equals(ascii("<<< ")) &&
    head.readUInt32LE(VDI_SIGNATURE_OFFSET) === VDI_SIGNATURE
  );
}

const disk = (format: SniffedFormat): Sniffed => ({ kind: "disk", format });
