/**
 * An HTTP/1.1 server (node:http) in front of an `IncomingHandler`: what `airssys-wasm serve`
 * runs. The host does the protocol; the guest sees only well-formed requests:
 *
 * - A request Node cannot parse is answered 400 (431 for oversized headers) by the host and
 *   never reaches the guest; so is a body over `maxBodyBytes` (413, read no further: the
 *   connection is closed after the answer).
 * - The body is read whole before the guest is called (host functions run synchronously, so
 *   the guest cannot wait for bytes still on the wire); the response streams to the client as
 *   the guest writes it, up to `maxBufferedBytes` that the client has not taken yet.
 * - Guest calls run one at a time on this thread with an `IncomingHandler`, or one per worker
 *   thread with an `HttpWorkerPool` (`serve --threads N`); `maxConcurrent` bounds the requests
 *   the server holds at once (reading, waiting, running): past it, 503 without reading the body.
 * - A guest that fails (trap, `out-of-fuel`, `timeout`, no response, a body never finished)
 *   gets a 500 whose body names only the error code, and `error [code]: …` goes to `onError`.
 *   The head is held back until the first body byte, so this holds until the guest has
 *   written some of its body; after that the connection is cut instead (the client must not
 *   take a partial body for a whole one). The server stays up for the next request.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AirssysError, toAirssysError } from '../../../shared/errors.js';
import type { HandleOutcome } from './incoming-handler.js';
import { answerClientError, readBody, refuse, requestData } from './node-exchange.js';
import type { RequestData } from './request.js';
import type { ResponseTarget } from './response.js';

export interface HttpServeOptions {
  host: string;
  /** 0 picks a free port (read it back from `address`). */
  port: number;
  /** Largest request body read for the guest (default 1 MiB); past it, 413. */
  maxBodyBytes?: number;
  /** Requests held at once (default 64); past it, 503. */
  maxConcurrent?: number;
  /** Response bytes the client has not read yet past which a write fails (default 16 MiB). */
  maxBufferedBytes?: number;
  /** One line per failed request: `error [code]: METHOD /path: message`. */
  onError?: (line: string) => void;
}

/** What answers the requests: an `IncomingHandler` (this thread) or an `HttpWorkerPool`. */
export interface RequestHandler {
  handle(request: RequestData, target: ResponseTarget): HandleOutcome | Promise<HandleOutcome>;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_CONCURRENT = 64;
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface HttpServer {
  /** Where it listens: `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on `options.host:port` and answers every request with `handler`.
 *
 * @example
 * const server = await serveHttp(new IncomingHandler(await engine.load('hello.wasm')), { host: '127.0.0.1', port: 0 });
 * console.log(`listening on ${server.url}`);
 */
export async function serveHttp(handler: RequestHandler, options: HttpServeOptions): Promise<HttpServer> {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const onError = options.onError ?? (() => {});
  let active = 0;

  const server: Server = createServer((req, res) => {
    if (active >= maxConcurrent) {
      refuse(res, 503, 'server busy: too many requests at once');
      req.resume();
      return;
    }
    active++;
    res.once('close', () => active--);
    readBody(req, res, maxBody, (body) => run(req, res, body));
  });

  const run = (req: IncomingMessage, res: ServerResponse, body: Uint8Array): void => {
    let outcome: HandleOutcome | Promise<HandleOutcome>;
    try {
      outcome = handler.handle(requestData(req, body), nodeTarget(res, maxBuffered));
    } catch (error) {
      // A host bug fails this request, never the server.
      outcome = hostFailure(error);
    }
    if (outcome instanceof Promise)
      outcome.then(
        (done) => finish(req, res, done),
        (error) => finish(req, res, hostFailure(error)),
      );
    else finish(req, res, outcome);
  };

  const finish = (req: IncomingMessage, res: ServerResponse, outcome: HandleOutcome): void => {
    // A complete answer that still did not end the response: Node refused part of it.
    if (outcome.ok && (res.writableEnded || res.destroyed)) return;
    const error = outcome.ok
      ? new AirssysError('internal', 'the response could not be sent (Node refused its head or body)', {
          blame: 'host',
        })
      : outcome.error;
    onError(`error [${error.code}]: ${req.method} ${req.url}: ${error.message}`);
    if (!res.headersSent) {
      // Only the code: the message may carry the guest's own text or the host's paths.
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`internal server error [${error.code}]\n`);
    } else if (!res.writableEnded) {
      // Part of the body is out: cut the connection, so the client cannot take it for all of it.
      res.destroy();
    }
  };

  server.on('clientError', answerClientError);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function hostFailure(error: unknown): HandleOutcome {
  return { ok: false, error: toAirssysError(error), responded: false, fuel: 0, ms: 0 };
}

function nodeTarget(res: ServerResponse, maxBuffered: number): ResponseTarget {
  // The head goes out with the first body bytes (or the end): a guest that fails before writing
  // any can still be answered 500 instead of having its connection cut.
  let head: [number, string[]] | undefined;
  const sendHead = (): void => {
    if (head === undefined) return;
    const [status, headers] = head;
    head = undefined;
    res.writeHead(status, headers);
  };
  return {
    start(status, headers) {
      head = [status, headers.flat()];
    },
    write(bytes) {
      if (res.destroyed) throw new Error('the client closed the connection');
      sendHead();
      // A guest on this thread blocks draining while it writes (on a worker thread, writes
      // arrive faster than a slow client reads): bound what waits.
      if (res.writableLength + bytes.length > maxBuffered) {
        throw new Error(`over ${maxBuffered} response bytes waiting for the client to read them`);
      }
      res.write(Buffer.from(bytes));
    },
    end(trailers) {
      sendHead();
      if (trailers !== undefined && trailers.length > 0) res.addTrailers(trailers);
      res.end();
    },
  };
}
