/**
 * The daemon's HTTP listener for applications (`host --http-listen HOST:PORT`), apart from the
 * admin API: each request whose path matches a deployed `wasi:http/proxy` component's
 * `[http] routes` becomes one request message to that address — routed by the host like any
 * other message, so blue-green, canary weights and mailbox bounds apply — and the component's
 * reply is the response.
 *
 * The host answers by itself, without reaching a guest: 404 for a path no route serves, 400
 * for a request Node cannot parse (431 for oversized headers), 413 for a body over the
 * route's `[http] max-body`, 503 with `Retry-After` when the component's mailbox is full or the
 * listener holds `maxConcurrent` requests already, 504 when no reply came in time. A request
 * the guest fails (trap, out-of-fuel, an unfinished or invalid response) is answered 500 with
 * only the error code in the body, and reported as a log event of the component.
 */

import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ComponentHost } from '../host/host.js';
import type { HttpReply } from '../host/http-actor.js';
import { toAirssysError } from '../shared/errors.js';
import {
  answerClientError,
  readBody,
  refuse,
  requestData,
  requestTarget,
} from '../wasm/wasi/http/node-exchange.js';
import type { EventHub } from './event-hub.js';
import { HttpRoutes } from './http-routes.js';

export interface HttpGatewayOptions {
  host: ComponentHost;
  events: EventHub;
  bind: string;
  /** 0 picks a free port. */
  port: number;
  /** Requests held at once (reading, queued or running); past it, 503. Default 256. */
  maxConcurrent?: number;
}

export interface HttpGateway {
  readonly url: string;
  readonly routes: HttpRoutes;
  /** Requests answered, by address and status, since the start (for `/v1/metrics`). */
  counts(): { address: string; status: number; count: number }[];
  close(): Promise<void>;
}

const DEFAULT_MAX_CONCURRENT = 256;
/** Time a request may wait in the mailbox on top of the guest's own `timeout-ms`. */
const QUEUE_SLACK_MS = 5000;

export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const { host, events } = options;
  const routes = new HttpRoutes(host);
  const maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
  const counts = new Map<string, number>();
  let active = 0;

  const count = (address: string, status: number) => {
    const key = `${address}\t${status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };

  const server: Server = createServer((req, res) => {
    const path = requestTarget(req.url ?? '/').pathWithQuery.split('?')[0];
    const match = routes.match(path);
    if (match === undefined) {
      count('', 404);
      refuse(res, 404, `no component serves ${path}`);
      req.resume();
      return;
    }
    if (active >= maxConcurrent) {
      count(match.address, 503);
      refuse(res, 503, 'server busy: too many requests at once', { 'retry-after': '1' });
      req.resume();
      return;
    }
    active++;
    res.once('close', () => active--);
    const tooLarge = () => count(match.address, 413);
    readBody(
      req,
      res,
      match.http.maxBodyBytes,
      (body) => {
        const request = requestData(req, body);
        const timeoutMs = match.timeoutMs + QUEUE_SLACK_MS;
        host.request<HttpReply>(match.address, request, { codec: 'cbor', timeoutMs }).then(
          ({ value }) => {
            count(match.address, value.status);
            send(res, value);
          },
          (error: unknown) => {
            const failure = toAirssysError(error);
            const status =
              failure.code === 'mailbox-full'
                ? 503
                : failure.code === 'timeout'
                  ? 504
                  : failure.code === 'not-found'
                    ? 503
                    : 500;
            count(match.address, status);
            events.emit({
              type: 'log',
              address: match.address,
              level: 'warn',
              message: `${req.method} ${path}: ${status} error [${failure.code}]: ${failure.message}`,
              at: Date.now(),
            });
            const extra: Record<string, string> = status === 503 ? { 'retry-after': '1' } : {};
            refuse(
              res,
              status,
              `${status === 500 ? 'internal server error' : 'unavailable'} [${failure.code}]`,
              extra,
            );
          },
        );
      },
      tooLarge,
    );
  });

  server.on('clientError', answerClientError);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    routes,
    counts: () =>
      [...counts].map(([key, n]) => {
        const [addr, status] = key.split('\t');
        return { address: addr, status: Number(status), count: n };
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, reply: HttpReply): void {
  if (res.destroyed) return;
  try {
    res.writeHead(reply.status, reply.headers.flat());
    if (reply.trailers !== undefined && reply.trailers.length > 0) res.addTrailers(reply.trailers);
    res.end(reply.body);
  } catch {
    // Node refused the guest's head (a header value it will not send): nothing valid went out.
    if (!res.headersSent) refuse(res, 500, 'internal server error [internal]');
    else res.destroy();
  }
}
