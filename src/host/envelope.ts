/**
 * A message as the host carries it. Its public fields are exactly the WIT `message` record, so
 * delivering it to a component lifts the object as it is, with no copy into another shape; the
 * host-only fields (`replyTo`, `error`) are invisible to the component.
 */

import { AirssysError, ERROR_CODES, type ErrorCode } from '../shared/errors.js';

export type MessageKind = 'send' | 'request' | 'reply' | 'publish';

/**
 * Where the reply to a request goes: a node (thread) and the requester's key on it (0 = host
 * API). For a request from another host of a cluster: `node` is `REMOTE_NODE`, `key` that host's
 * number and `via` the route on that host.
 */
export interface ReplyRoute {
  readonly node: number;
  readonly key: number;
  readonly via?: ReplyRoute | undefined;
}

export interface Envelope {
  readonly kind: MessageKind;
  /** Address of the sender, stamped by the host (`host` for the embedding application). */
  readonly sender: string;
  readonly target: string;
  readonly topic: string | undefined;
  readonly correlationId: bigint | undefined;
  readonly codec: number;
  readonly payload: Uint8Array;
  /** Requests only: where the reply goes. */
  readonly replyTo?: ReplyRoute | undefined;
  /**
   * Requests only: the addresses waiting on this request's causal chain (the requester, the one
   * that asked the requester, …), to refuse a request that would wait on itself.
   */
  readonly chain?: readonly string[] | undefined;
  /** Host probes only: the version of the address to reach, whatever the routing weights. */
  readonly version?: string | undefined;
  /** Host probes only: the lifecycle export to call instead of `handle-message`. */
  readonly probe?: 'health' | 'migrate' | undefined;
  /** W3C `traceparent` of the span that sent it (see trace.ts); absent when not traced. */
  readonly trace?: string | undefined;
  /** Replies only: set when the request failed; `payload` then holds the same as JSON. */
  readonly error?: { readonly code: ErrorCode; readonly message: string } | undefined;
}

/** The address the embedding application sends from. */
export const HOST_ADDRESS = 'host';

/**
 * Codec of error replies: JSON `{"code":…,"message":…}`. A private-use multicodec code, so a
 * component tells an error reply from a JSON answer by the codec alone.
 */
export const ERROR_CODEC = 0x300002;

/** Default cap on a payload's size (bytes), checked when a message is sent. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

const utf8 = new TextEncoder();

/** The reply that reports `error` to a requester. */
export function errorReply(request: Envelope, sender: string, error: AirssysError): Envelope {
  const body = { code: error.code, message: error.message };
  return {
    kind: 'reply',
    sender,
    target: request.sender,
    topic: undefined,
    correlationId: request.correlationId,
    codec: ERROR_CODEC,
    payload: utf8.encode(JSON.stringify(body)),
    error: body,
  };
}

/**
 * An error a component reported (`{code, message}` from `handle-message`, or forwarded in the
 * error codec) as an `AirssysError`; a code outside the host's list becomes `internal`, keeping
 * the component's own code in `details.guestCode`.
 */
export function guestError(who: string, code: unknown, message: unknown): AirssysError {
  const known = (ERROR_CODES as readonly unknown[]).includes(code);
  return new AirssysError(known ? (code as ErrorCode) : 'internal', `${who}: ${String(message)}`, {
    blame: 'guest',
    details: known ? undefined : { guestCode: code },
  });
}

export function tooLarge(size: number, max: number, target: string): AirssysError {
  return new AirssysError(
    'messaging-error',
    `message to ${target} is ${size} bytes, over the ${max}-byte cap; send a smaller payload or raise the host's maxMessageBytes`,
    { blame: 'guest', details: { reason: 'message-too-large', size, max } },
  );
}
