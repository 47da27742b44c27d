// Reads a whole input stream as text (passwords and other values given on standard input).
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream)
    text += typeof chunk === "string" ? chunk : (chunk as Buffer).toString("utf8");
  return text;
}
