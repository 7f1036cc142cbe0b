// The airssys kit for JavaScript and TypeScript components (world airssys:core/component@1.0.0).
//
// A thin layer over the bindings componentize-js generates for wit/core/core.wit: host services
// with plain JavaScript values (strings or bytes in, numbers out), storage bound to a namespace,
// replies built for you, `defineComponent`, which turns any exception into the `error` record the
// host expects instead of a trap, and `console.*` sent to the host's log. Types: airssys.d.ts
// beside this file. Docs: kit/js/README.md.
//
// `airssys-wasm new` copies this file into a component's src/; `airssys-wasm build` bundles it
// with the component (esbuild), leaving only the `airssys:core/...` import to componentize-js.

import * as host from 'airssys:core/host-services@1.0.0';

/** Multicodec codes of payload encodings (wit/core/core.wit, `types.codec`). */
export const CODEC = Object.freeze({
  raw: 0x55,
  json: 0x0200,
  cbor: 0x51,
  msgpack: 0x0201,
  borsh: 0x300001,
  /** An error reply: the payload is JSON `{"code", "message"}`. */
  error: 0x300002,
});

/**
 * A failure with one of the host's stable codes (`invalid-argument`, `not-found`, ...). Thrown
 * from a handler, it becomes the call's `err({code, message})`; host services throw it when the
 * host refuses a call (`capability-denied`, `quota-exceeded`, ...).
 */
export class ComponentError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'ComponentError';
    this.code = code;
    // Note: the generated bindings send a thrown value's own `payload` property as the `error`
    // record; anything else thrown that is an Error traps the instance.
    Object.defineProperty(this, 'payload', { value: { code, message }, enumerable: false });
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A string as UTF-8 bytes; bytes as they are. */
export function toBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoder.encode(value);
  throw new ComponentError('invalid-argument', `expected a string or a Uint8Array, got ${typeof value}`);
}

/** UTF-8 text of bytes (a message's payload, a stored value). */
export function toText(bytes) {
  return decoder.decode(bytes);
}

function fromHost(error) {
  const payload = error?.payload;
  if (payload && typeof payload.code === 'string') return new ComponentError(payload.code, payload.message);
  return error;
}

// Every host service that returns result<_, error> throws the bindings' own error type; callers
// of this kit see a ComponentError with `code` instead.
function call(fn, ...args) {
  try {
    return fn(...args);
  } catch (error) {
    throw fromHost(error);
  }
}

function toNumber(value) {
  return typeof value === 'bigint' ? Number(value) : value;
}

// ---- messages and responses ----------------------------------------------------------------

/** The payload of a message as UTF-8 text. */
export function messageText(message) {
  return decoder.decode(message.payload);
}

/** The payload of a message parsed as JSON (whatever its codec says). */
export function messageJson(message) {
  return JSON.parse(decoder.decode(message.payload));
}

/** `handle-message`'s answer when there is nothing to say (the reply to a request is then empty). */
export const NONE = Object.freeze({ tag: 'none' });

/** `handle-message`'s answer when the component replies later with `reply(correlationId, ...)`. */
export const DEFERRED = Object.freeze({ tag: 'deferred' });

/** A reply to a request: text or bytes, tagged `raw` unless another codec is given. */
export function respond(payload, codec = CODEC.raw) {
  return { tag: 'reply', val: { codec, payload: toBytes(payload) } };
}

/** A reply to a request with a JSON value (the requester receives it decoded). */
export function respondJson(value) {
  return respond(JSON.stringify(value), CODEC.json);
}

// ---- host services -------------------------------------------------------------------------

/** The host's log, with the component's address attached by the host. */
export const log = Object.freeze({
  trace: (message) => host.log('trace', String(message)),
  debug: (message) => host.log('debug', String(message)),
  info: (message) => host.log('info', String(message)),
  warn: (message) => host.log('warn', String(message)),
  error: (message) => host.log('error', String(message)),
});

/** Fire-and-forget to a component address (`messaging.send` permission). */
export function send(target, payload, codec = CODEC.raw) {
  call(host.send, target, codec, toBytes(payload));
}

/**
 * Sends a request and returns its correlation id; the answer arrives later as a message of kind
 * `reply` with that `correlationId` (a timeout arrives as an error reply, codec `CODEC.error`).
 */
export function request(target, payload, options = {}) {
  const { codec = CODEC.raw, timeoutMs = 5000 } = options;
  return call(host.request, target, codec, toBytes(payload), timeoutMs);
}

/** Answers a request this component deferred (returned `DEFERRED` for it). */
export function reply(correlationId, payload, codec = CODEC.raw) {
  call(host.reply, BigInt(correlationId), codec, toBytes(payload));
}

/** Publishes on a topic (`messaging.send` permission covers the topic). */
export function publish(topic, payload, codec = CODEC.raw) {
  call(host.publish, topic, codec, toBytes(payload));
}

/** Subscribes to a topic pattern (`*` one segment, `>` the rest; `messaging.subscribe` permission). */
export function subscribe(pattern) {
  call(host.subscribe, pattern);
}

export function unsubscribe(pattern) {
  call(host.unsubscribe, pattern);
}

/** A value of the manifest's `[config]`, or undefined. */
export function config(key) {
  return host.configGet(key) ?? undefined;
}

/** Wall-clock time in milliseconds since the Unix epoch, from the host. */
export function now() {
  return toNumber(host.now());
}

/**
 * Key-value storage in one namespace (the namespace must be listed in Component.toml
 * `[permissions] storage.namespaces`). Values are bytes; the helpers store text and JSON as UTF-8.
 */
export function storage(namespace) {
  return Object.freeze({
    namespace,
    get: (key) => call(host.storageGet, namespace, key) ?? undefined,
    getText(key) {
      const value = call(host.storageGet, namespace, key);
      return value == null ? undefined : decoder.decode(value);
    },
    getJson(key) {
      const value = call(host.storageGet, namespace, key);
      return value == null ? undefined : JSON.parse(decoder.decode(value));
    },
    set(key, value) {
      call(host.storageSet, namespace, key, toBytes(value));
    },
    setJson(key, value) {
      call(host.storageSet, namespace, key, encoder.encode(JSON.stringify(value)));
    },
    delete: (key) => call(host.storageDelete, namespace, key),
    list(prefix = '', options = {}) {
      const { cursor, limit = 100 } = options;
      const page = call(host.storageListPrefix, namespace, prefix, cursor ?? undefined, limit);
      return { keys: page.keys, next: page.next ?? undefined };
    },
    /** Adds `delta` to a 64-bit counter (missing counts as 0); returns the new value. */
    increment: (key, delta = 1) => toNumber(call(host.storageIncrement, namespace, key, BigInt(delta))),
    /** Sets `key` to `value` (undefined deletes) only if it holds `expected` (undefined: absent). */
    compareAndSet: (key, expected, value) =>
      call(
        host.storageCompareAndSet,
        namespace,
        key,
        expected === undefined ? undefined : toBytes(expected),
        value === undefined ? undefined : toBytes(value),
      ),
  });
}

// ---- console ----------------------------------------------------------------------------------

// The component has no stdout: `console.*` goes to the host's log instead, once the host has
// called init. Before that (module top level, which runs at build time) it is dropped: there is
// no host to call yet.
let live = false;

function show(value) {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

const toLog =
  (level) =>
  (...args) => {
    if (live) host.log(level, args.map(show).join(' '));
  };

globalThis.console = Object.assign(globalThis.console ?? {}, {
  log: toLog('info'),
  info: toLog('info'),
  debug: toLog('debug'),
  trace: toLog('trace'),
  warn: toLog('warn'),
  error: toLog('error'),
});

// Note: nothing runs between calls, and without a clock StarlingMonkey traps on a timer; a clear
// error (which defineComponent reports as `internal`) is better than a trap and a restart.
for (const name of ['setTimeout', 'setInterval']) {
  globalThis[name] = () => {
    throw new Error(`${name} is not available in an airssys component: nothing runs between calls`);
  };
}

// ---- the lifecycle export ------------------------------------------------------------------

function toComponentError(error) {
  if (error instanceof ComponentError) return error;
  const converted = fromHost(error);
  if (converted instanceof ComponentError) return converted;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new ComponentError('internal', text);
}

// Runs a handler; a handler may be async (its promise must settle within the call).
function guard(fn, fallback) {
  let result;
  try {
    result = fn();
  } catch (error) {
    throw toComponentError(error);
  }
  if (typeof result?.then === 'function') {
    return result.then(
      (value) => value ?? fallback,
      (error) => {
        throw toComponentError(error);
      },
    );
  }
  return result ?? fallback;
}

/**
 * The `component-lifecycle` export from plain handlers. Export the result as
 * `componentLifecycle`:
 *
 *   export const componentLifecycle = defineComponent({ handleMessage(message) { ... } });
 *
 * `init` receives `[config]` as an object; `handleMessage` returns `respond(...)`, `NONE`
 * (also for `undefined`) or `DEFERRED`; `health` defaults to healthy. An exception in `init`
 * or `handleMessage` becomes an error (a ComponentError keeps its code, anything else is
 * `internal`), never a trap.
 */
export function defineComponent(handlers) {
  if (typeof handlers?.handleMessage !== 'function') {
    throw new TypeError('defineComponent: handleMessage(message) is required');
  }
  return {
    init(pairs) {
      live = true;
      return guard(() => handlers.init?.(Object.fromEntries(pairs)), undefined);
    },
    handleMessage(message) {
      return guard(() => handlers.handleMessage(message), NONE);
    },
    health() {
      try {
        return handlers.health?.() ?? 'healthy';
      } catch {
        return 'unhealthy';
      }
    },
    shutdown() {
      try {
        handlers.shutdown?.();
      } catch (error) {
        log.warn(`shutdown failed: ${error}`);
      }
    },
  };
}
