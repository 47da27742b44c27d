import assert from "node:assert/strict";
import { test } from "node:test";
import { editKeys, editorLines, GRUB_EDITOR_RE, linuxLineIndex } from "./grub.ts";

// GRUB 2.06's editor as it paints over a serial terminal (cut from a real session): rows at
// column 3, a wrapped line ending in a backslash, blank rows below.
const rows = (lines: string[]) => lines.map((l, i) => `\x1b[${5 + i};3H${l.padEnd(76)}`).join("");
const screen = (lines: string[]) =>
  "\x1b[2;24HGNU GRUB  version 2.06\r\n\x1b[19;2H     Minimum Emacs-like screen editing is supported. TAB lists\r\n" +
  `      completions. Press Ctrl-x or F10 to boot\x1b[?25l${rows(lines)}\x1b[5;3H\x1b[?25h`;

const debian = screen([
  "setparams 'Debian GNU/Linux'",
  "",
  "  linux /boot/vmlinuz-6.1.0-50-amd64 root=UUID=3f6b3a1e-1c2d-4e5f-8a9b-0c1d\\\r\n",
  "2e3f4a5b ro console=tty0 console=ttyS0,115200",
  "  initrd /boot/initrd.img-6.1.0-50-amd64",
  "",
  "",
]);

test("the editor's lines are read from GRUB's screen, wrapped rows joined", () => {
  assert.match(debian, GRUB_EDITOR_RE);
  assert.deepEqual(editorLines(debian), [
    "setparams 'Debian GNU/Linux'",
    "",
    "  linux /boot/vmlinuz-6.1.0-50-amd64 root=UUID=3f6b3a1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b ro console=tty0 console=ttyS0,115200",
    "  initrd /boot/initrd.img-6.1.0-50-amd64",
  ]);
  assert.equal(linuxLineIndex(debian), 2);
});

test("the linux line is found wherever the entry puts it, and missing is undefined", () => {
  const other = screen([
    "setparams 'x'",
    "",
    "  insmod ext2",
    "  search --set=root --fs-uuid 1234",
    "  linuxefi /vmlinuz quiet",
    "  initrd /initrd",
  ]);
  assert.equal(linuxLineIndex(other), 4);
  assert.equal(linuxLineIndex(screen(["setparams 'x'", "", "  chainloader +1"])), undefined);
  assert.equal(linuxLineIndex("no editor here"), undefined);
});

test("the keys go down to the line, to its end, append and boot", () => {
  assert.equal(editKeys(2, "break=bottom"), "\x0e\x0e\x05 break=bottom\x18");
  assert.equal(editKeys(0, "a"), "\x05 a\x18");
});
