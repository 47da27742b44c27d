// Package fields come from files inside an image anyone may have built: they are cleaned before
// they reach a document. Control characters (C0, DEL, C1) and the bidirectional overrides that
// make text display other than it reads are removed, tabs and line breaks become spaces, and the
// rest is kept: JSON encoding takes care of quotes and markup.

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without control characters, whitespace runs folded, trimmed. */
export function cleanText(text: string): string {
  return text
    .replace(CONTROL, "")
    .replace(/[\t\n\r]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim();
}

/** The first line of a multi-line field, cleaned. */
export function firstLine(text: string): string {
  const newline = text.indexOf("\n");
  return cleanText(newline < 0 ? text : text.slice(0, newline));
}
