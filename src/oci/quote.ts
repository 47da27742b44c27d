// Quoting untrusted values for error messages: JSON string syntax (so NUL, newlines and quotes
// are escaped and cannot forge log lines), clipped so a huge input cannot make a huge message.

const MAX_QUOTED = 80;

/** `"value"` with control characters escaped, clipped to about 80 characters. */
export function quote(value: string, max = MAX_QUOTED): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max - 3)}...` : value);
}

/** A JSON value as it would be written, clipped; for "got …" parts of messages. */
export function showJson(value: unknown, max = 40): string {
  if (value === undefined) return "none";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** Text with control characters written as JSON escapes, clipped; for messages from elsewhere. */
export function escapeControl(text: string, max = 200): string {
  const escaped = [...text]
    .map((c) => (c < " " || c === "\u007f" ? JSON.stringify(c).slice(1, -1) : c))
    .join("");
  return escaped.length > max ? `${escaped.slice(0, max - 3)}...` : escaped;
}
