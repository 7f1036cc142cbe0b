import { usage } from './output.js';

/** `HOST:PORT`, `[::1]:PORT` or `:PORT` (all interfaces), as `--listen` and `--http-listen` take it. */
export function listenAddress(text: string, flag: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = match === null ? Number.NaN : Number(match[3]);
  if (match === null || port > 65535) throw usage(`${flag} ${text}: expected HOST:PORT, e.g. 127.0.0.1:8080`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}
