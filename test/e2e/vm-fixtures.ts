// Disks for the VM tests that need no real operating system: a boot sector that prints a line
// on the first serial port and halts. QEMU boots it in well under a second.
import { writeFile } from "node:fs/promises";

export const HELLO = "strata-vm-hello";

/** A 1 MiB raw disk whose MBR code writes HELLO to COM1 (port 0x3f8), then halts. */
export async function writeHelloDisk(path: string): Promise<void> {
  const code = [
    ...[0x31, 0xc0, 0x8e, 0xd8, 0xfc], // xor ax,ax; mov ds,ax; cld
    ...[0xba, 0xf8, 0x03], // mov dx,0x3f8
    ...[0xbe, 0x16, 0x7c], // mov si,0x7c16 (the message below)
    ...[0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8], // lodsb; test al,al; jz +3; out dx,al; jmp lodsb
    ...[0xf4, 0xeb, 0xfd], // hlt; jmp hlt
  ];
  const disk = Buffer.alloc(1024 * 1024);
  Buffer.from(code).copy(disk, 0);
  Buffer.from(`${HELLO}\r\n\0`, "latin1").copy(disk, code.length);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  await writeFile(path, disk);
}
