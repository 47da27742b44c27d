// Reads a server-sent event stream (text/event-stream) over fetch: each event's name and its
// data parsed as JSON, one at a time; comment lines (heartbeats) and `retry` are skipped.
export interface ServerEvent {
  readonly event: string;
  readonly data: unknown;
}

export interface EventStream {
  /** The next event, or undefined once the server ended the stream. */
  next(): Promise<ServerEvent | undefined>;
  close(): void;
}

export async function openEventStream(url: string, headers: Record<string, string>): Promise<EventStream> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: abort.signal,
  });
  if (res.status !== 200 || res.body === null)
    throw new Error(`Event stream ${url} answered ${res.status}: ${await res.text()}`);
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("text/event-stream")) throw new Error(`Event stream answered ${type}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  return {
    async next() {
      for (;;) {
        const end = buffered.indexOf("\n\n");
        if (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          let event = "message";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (data.length > 0) return { event, data: JSON.parse(data.join("\n")) as unknown };
          continue;
        }
        const chunk = await reader.read();
        if (chunk.done) return undefined;
        buffered += decoder.decode(chunk.value, { stream: true });
      }
    },
    close() {
      abort.abort();
    },
  };
}
