// Parses a listen address `HOST:PORT` (IPv6 as `[::1]:5000`).

export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[(?<v6>[^\]]+)\]|(?<host>[^:]*)):(?<port>\d{1,5})$/.exec(addr);
  const port = Number(m?.groups?.port);
  if (m === null || !Number.isInteger(port) || port > 65535) {
    throw new Error(`Invalid listen address "${addr}": expected HOST:PORT or [IPv6]:PORT`);
  }
  const host = m.groups?.v6 ?? m.groups?.host ?? "";
  return { host: host === "" ? "0.0.0.0" : host, port };
}
