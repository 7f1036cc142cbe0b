/**
 * `wasi:http` 0.2 for incoming handlers (the `wasi:http/proxy` world): the host side of
 * `wasi:http/types` a handler needs, `outgoing-handler` sending requests through the egress
 * policy (outgoing-handler.ts, on the osl bridge thread), the call of a
 * component's `handle` for one request, and a node:http server in front of it. See docs/wasi.md
 * ("airssys-wasm serve").
 */

export { Fields, FORBIDDEN_HEADERS, type HeaderError } from './fields.js';
export {
  type HandleOutcome,
  IncomingHandler,
  type IncomingHandlerOptions,
  incomingHandlerExport,
} from './incoming-handler.js';
export { OUTGOING_OPERATION, outgoingHandlerInterface } from './outgoing-handler.js';
export type { RequestData } from './request.js';
export type { ResponseTarget } from './response.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONCURRENT,
  type HttpServeOptions,
  type HttpServer,
  serveHttp,
} from './server.js';
