/**
 * The node:http side of an incoming request, shared by `serve` (server.ts) and the daemon's
 * HTTP listener: the body read up to a limit, the request as `RequestData`, the host's own short
 * answers, and 400/431 for what Node cannot parse — all before any guest runs.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestData } from './request.js';

/** The host's own answer (busy, too large, no route): a short text, and the connection closed after it. */
export function refuse(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close', ...headers });
  res.end(`${text}\n`);
}

/**
 * Reads the body whole, then calls `done`; a body over `maxBody` (declared or sent) is answered
 * 413 at once, read no further, and `onTooLarge` is told.
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBody: number,
  done: (body: Uint8Array) => void,
  onTooLarge: () => void = () => {},
): void {
  const tooLarge = () => {
    onTooLarge();
    refuse(res, 413, `request body over ${maxBody} bytes`);
  };
  if (Number(req.headers['content-length'] ?? 0) > maxBody) {
    tooLarge();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > maxBody) {
      refused = true;
      tooLarge();
      return;
    }
    chunks.push(chunk);
  });
  req.once('end', () => {
    if (refused || res.destroyed) return;
    done(Buffer.concat(chunks, size));
  });
}

/** The path and query of a request target, and the authority an absolute-form one names. */
export function requestTarget(url: string): { pathWithQuery: string; authority: string | undefined } {
  // Absolute form (`GET http://host/path`): the guest gets the path, the authority from the URL.
  if (!url.startsWith('/') && url !== '*') {
    try {
      const parsed = new URL(url);
      return { pathWithQuery: `${parsed.pathname}${parsed.search}`, authority: parsed.host };
    } catch {
      // node:http accepted it; pass it on as it came.
    }
  }
  return { pathWithQuery: url, authority: undefined };
}

export function requestData(req: IncomingMessage, body: Uint8Array): RequestData {
  const target = requestTarget(req.url ?? '/');
  const pathWithQuery = target.pathWithQuery;
  const authority = target.authority ?? req.headers.host;
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  return {
    method: req.method ?? 'GET',
    pathWithQuery,
    scheme: secure ? 'https' : 'http',
    authority,
    headers: pairs(req.rawHeaders),
    body,
    trailers: pairs(req.rawTrailers),
  };
}

/** Node's raw `[name, value, name, value…]` as (name, bytes): Node read the bytes as latin1. */
function pairs(raw: readonly string[]): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], Buffer.from(raw[i + 1], 'latin1')]);
  return out;
}

/** A `clientError` listener: 431 for oversized headers, 400 for anything else Node cannot parse. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (error.code === 'ECONNRESET' && socket.bytesWritten === 0)) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}
