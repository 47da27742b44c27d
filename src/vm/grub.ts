// Typing at GRUB over the serial console, as Packer's boot_command does: open the menu entry in
// GRUB's editor, move to its `linux` line, append kernel arguments and boot. The editor's screen
// is parsed to find that line, so an entry whose `linux` line is not first still works.
/* eslint-disable no-control-regex -- terminal escapes and keys are control characters */

/** GRUB's editor keys: next line, end of line, boot. */
export const GRUB_KEYS = { nextLine: "\x0e", endOfLine: "\x05", boot: "\x18" } as const;

/** The text GRUB prints in its menu, and its editor's help (both on the serial terminal). */
export const GRUB_MENU_RE = /GNU GRUB/;
export const GRUB_EDITOR_RE = /Emacs-like[\s\S]*?\x1b\[\?25h/;
/** Signs that a kernel started (GRUB printed its loading messages, or the kernel its banner). */
export const KERNEL_STARTED_RE = /Loading Linux|Linux version \d|EFI stub:/;

/**
 * The editor's lines as GRUB painted them after `e` (rows written at column 3), wrapped rows
 * (ending in a backslash) joined. The first line is GRUB's own `setparams 'title'`.
 */
export function editorLines(screen: string): string[] {
  const start = screen.lastIndexOf("Emacs-like");
  const text = start < 0 ? screen : screen.slice(start);
  const rows = new Map<number, string>();
  for (const m of text.matchAll(/\x1b\[(\d+);3H([^\x1b]*)/g)) {
    const row = Number(m[1]);
    const value = (m[2] ?? "").replace(/[\x00-\x1f]/g, "").trimEnd();
    // A bare cursor move to a row (GRUB ends its paint with one to the first) clears nothing.
    if (value !== "" || !rows.has(row)) rows.set(row, value);
  }
  const lines: string[] = [];
  let continued = false;
  for (const row of [...rows.keys()].sort((a, b) => a - b)) {
    const value = rows.get(row) ?? "";
    const wrapped = value.endsWith("\\");
    const part = wrapped ? value.slice(0, -1) : value;
    if (continued && lines.length > 0) lines[lines.length - 1] += part;
    else lines.push(part);
    continued = wrapped;
  }
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** How many lines down from the editor's first line the `linux` command is, or undefined. */
export function linuxLineIndex(screen: string): number | undefined {
  const index = editorLines(screen).findIndex((l) => /^\s*linux(?:efi|16)?\s/.test(l));
  return index < 0 ? undefined : index;
}

/** Keys that move from the editor's first line to the end of line `index`, add `args`, boot. */
export function editKeys(index: number, args: string): string {
  return `${GRUB_KEYS.nextLine.repeat(index)}${GRUB_KEYS.endOfLine} ${args}${GRUB_KEYS.boot}`;
}
