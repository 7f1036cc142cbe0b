// Types of the airssys kit for JavaScript and TypeScript components (airssys.js beside this file).
// The shapes follow the bindings componentize-js generates for wit/core/core.wit: records are
// objects with camelCase fields, enums are strings, `option<T>` is `T | undefined`, `u64` is
// `bigint`, `list<u8>` is `Uint8Array`.

/** Multicodec code of a payload's encoding (`types.codec`). */
export type Codec = number;

export declare const CODEC: Readonly<{
  raw: 0x55;
  json: 0x0200;
  cbor: 0x51;
  msgpack: 0x0201;
  borsh: 0x300001;
  /** An error reply: the payload is JSON `{"code", "message"}`. */
  error: 0x300002;
}>;

/** Why a message was delivered (`types.message-kind`). */
export type MessageKind = 'send' | 'request' | 'reply' | 'publish';

/** One message (`types.message`). */
export interface Message {
  kind: MessageKind;
  /** Address of the sending component, or `host` for the embedding application. */
  sender: string;
  /** Address it was sent to (this component, or a topic for publications). */
  target: string;
  /** The topic of a publication. */
  topic: string | undefined;
  /** Set on requests and replies. */
  correlationId: bigint | undefined;
  codec: Codec;
  payload: Uint8Array;
}

/** What `handle-message` answers (`types.response`). */
export type Response =
  | { tag: 'none' }
  | { tag: 'reply'; val: { codec: Codec; payload: Uint8Array } }
  | { tag: 'deferred' };

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** Text (sent as UTF-8) or bytes. */
export type Payload = string | Uint8Array;

/**
 * A failure with one of the host's stable codes. Thrown from a handler it becomes the call's
 * `err({code, message})`; host services throw it when the host refuses a call.
 */
export declare class ComponentError extends Error {
  readonly code: string;
  constructor(code: string, message: string);
}

export declare function toBytes(value: Payload): Uint8Array;
export declare function toText(bytes: Uint8Array): string;

export declare function messageText(message: Message): string;
export declare function messageJson<T = unknown>(message: Message): T;

export declare const NONE: Readonly<{ tag: 'none' }>;
export declare const DEFERRED: Readonly<{ tag: 'deferred' }>;
export declare function respond(payload: Payload, codec?: Codec): Response;
export declare function respondJson(value: unknown): Response;

export declare const log: Readonly<{
  trace(message: unknown): void;
  debug(message: unknown): void;
  info(message: unknown): void;
  warn(message: unknown): void;
  error(message: unknown): void;
}>;

export declare function send(target: string, payload: Payload, codec?: Codec): void;
export declare function request(
  target: string,
  payload: Payload,
  options?: { codec?: Codec; timeoutMs?: number },
): bigint;
export declare function reply(correlationId: bigint | number, payload: Payload, codec?: Codec): void;
export declare function publish(topic: string, payload: Payload, codec?: Codec): void;
export declare function subscribe(pattern: string): void;
export declare function unsubscribe(pattern: string): void;
export declare function config(key: string): string | undefined;
export declare function now(): number;

/** One page of a prefix listing: keys in byte order, and the cursor of the next page. */
export interface KeyPage {
  keys: string[];
  next: string | undefined;
}

export interface Storage {
  readonly namespace: string;
  get(key: string): Uint8Array | undefined;
  getText(key: string): string | undefined;
  getJson<T = unknown>(key: string): T | undefined;
  set(key: string, value: Payload): void;
  setJson(key: string, value: unknown): void;
  delete(key: string): boolean;
  list(prefix?: string, options?: { cursor?: string; limit?: number }): KeyPage;
  /** Adds `delta` to a 64-bit counter (missing counts as 0); returns the new value. */
  increment(key: string, delta?: number | bigint): number;
  /** Sets `key` to `value` (undefined deletes) only if it holds `expected` (undefined: absent). */
  compareAndSet(key: string, expected: Payload | undefined, value: Payload | undefined): boolean;
}

export declare function storage(namespace: string): Storage;

export interface Handlers {
  /** Called once per start and restart with the manifest's `[config]`. */
  init?(config: Record<string, string>): void | Promise<void>;
  /**
   * One message at a time; return `respond(...)` to answer a request. May be async: the promise
   * must settle within the call (nothing runs between calls).
   */
  handleMessage(message: Message): Response | undefined | Promise<Response | undefined>;
  health?(): HealthStatus;
  shutdown?(): void;
}

/** The `component-lifecycle` export, in the shape the bindings call. */
export interface ComponentLifecycle {
  init(config: [string, string][]): void | Promise<void>;
  handleMessage(message: Message): Response | Promise<Response>;
  health(): HealthStatus;
  shutdown(): void;
}

export declare function defineComponent(handlers: Handlers): ComponentLifecycle;
