/**
 * The extension imports `airssys:ext-filesystem`, `airssys:ext-network` and
 * `airssys:ext-process` of one component actor, implemented on its `osl` sandbox (guards,
 * quotas, audit). Each call starts an operation and returns its correlation id at once; the
 * outcome reaches the component later as a `reply` message (see wit/ext/*.wit), so a scheduler
 * thread never waits on a disk, a socket or a child process while other actors have messages.
 *
 * Nothing here decides a capability: the sandbox's guard chain does, asynchronously, and its
 * refusal arrives as an error reply — recorded in the audit log like every other decision.
 */

import type { Sandbox } from '../osl/sandbox/sandbox.js';
import { toAirssysError } from '../shared/errors.js';
import type { ActorIdentity } from './host-services.js';

export const EXT_FILESYSTEM = 'airssys:ext-filesystem/filesystem@1.0.0';
export const EXT_HTTP = 'airssys:ext-network/http@1.0.0';
export const EXT_PROCESS = 'airssys:ext-process/process@1.0.0';

/** Sender of the replies each extension delivers. */
export const EXT_SENDERS = {
  filesystem: 'airssys:ext-filesystem',
  http: 'airssys:ext-network',
  process: 'airssys:ext-process',
} as const;
export type ExtSender = (typeof EXT_SENDERS)[keyof typeof EXT_SENDERS];

/** The reply codec of HTTP responses and process results: a length-prefixed JSON head, then bytes. */
export const FRAMED_CODEC = 0x300003;
const RAW = 0x55;
const JSON_CODEC = 0x0200;
const EMPTY = new Uint8Array(0);

/** What an operation resolves to: the reply the component receives. */
export interface OperationReply {
  readonly codec: number;
  readonly payload: Uint8Array;
}

/**
 * One operation on the actor's sandbox. `maxBytes` is the largest reply the host delivers (its
 * message cap): reads, responses and output are refused past it instead of being loaded first.
 */
export type Operation = (sandbox: Sandbox, maxBytes: number) => Promise<OperationReply>;

/** What the extensions need from the node the actor runs on. */
export interface OperationBackend {
  /**
   * Starts `work` on the actor's sandbox and returns the correlation id its reply will carry.
   * Throws (`quota-exceeded`, `capability-denied` for shadows) when it cannot start.
   */
  operate(from: ActorIdentity, sender: ExtSender, work: Operation): bigint;
}

type Result<T> = { tag: 'ok'; val: T } | { tag: 'err'; val: { code: string; message: string } };

function start(
  backend: OperationBackend,
  me: ActorIdentity,
  sender: ExtSender,
  work: Operation,
): Result<bigint> {
  try {
    return { tag: 'ok', val: backend.operate(me, sender, work) };
  } catch (error) {
    const e = toAirssysError(error);
    return { tag: 'err', val: { code: e.code, message: e.message } };
  }
}

const encoder = new TextEncoder();
const json = (value: unknown): OperationReply => ({
  codec: JSON_CODEC,
  payload: encoder.encode(JSON.stringify(value)),
});
const empty = (): OperationReply => ({ codec: RAW, payload: EMPTY });

/** `u32le(head length) · head JSON · body…` — see wit/ext/network.wit. */
export function framed(head: unknown, ...body: Uint8Array[]): OperationReply {
  const headBytes = encoder.encode(JSON.stringify(head));
  let size = 4 + headBytes.byteLength;
  for (const part of body) size += part.byteLength;
  const payload = new Uint8Array(size);
  new DataView(payload.buffer).setUint32(0, headBytes.byteLength, true);
  payload.set(headBytes, 4);
  let at = 4 + headBytes.byteLength;
  for (const part of body) {
    payload.set(part, at);
    at += part.byteLength;
  }
  return { codec: FRAMED_CODEC, payload };
}

/** Splits a framed payload back into its head and body (hosts and tests read replies with it). */
export function unframe(payload: Uint8Array): { head: unknown; body: Uint8Array } {
  const length = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
  const head = JSON.parse(new TextDecoder().decode(payload.subarray(4, 4 + length)));
  return { head, body: payload.subarray(4 + length) };
}

/** Default and ceiling of a guest's HTTP and process timeouts (`timeout-ms` 0 means the default). */
const DEFAULT_TIMEOUT_MS = 30_000;
const timeout = (ms: number) => (ms === 0 ? DEFAULT_TIMEOUT_MS : Math.min(ms, 10 * DEFAULT_TIMEOUT_MS));

/** Header and environment pairs as an object; a repeated name keeps its last value. */
function pairs(list: readonly (readonly [string, string])[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of list) out[name] = value;
  return out;
}

/** The three extension interfaces of one actor, as host imports keyed by interface name. */
export function extServices(
  backend: OperationBackend,
  me: ActorIdentity,
): Record<string, Record<string, (...args: any[]) => unknown>> {
  const fs = (work: Operation) => start(backend, me, EXT_SENDERS.filesystem, work);
  return {
    [EXT_FILESYSTEM]: {
      'read-file': (path: string, maxBytes: number) =>
        fs(async (sb, cap) => ({
          codec: RAW,
          payload: await sb.fs.readFile(path, { maxBytes: maxBytes === 0 ? cap : Math.min(maxBytes, cap) }),
        })),
      'write-file': (path: string, data: Uint8Array, append: boolean) =>
        fs(async (sb) => {
          await sb.fs.writeFile(path, data, { append });
          return empty();
        }),
      'list-dir': (path: string) =>
        fs(async (sb) => json((await sb.fs.readdir(path)).map((e) => ({ name: e.name, type: e.type })))),
      stat: (path: string) =>
        fs(async (sb) => {
          const s = await sb.fs.stat(path);
          return json({ type: s.type, size: s.size, 'modified-ms': s.mtimeMs });
        }),
      'create-dir': (path: string) =>
        fs(async (sb) => {
          await sb.fs.mkdir(path);
          return empty();
        }),
      'remove-file': (path: string) =>
        fs(async (sb) => {
          await sb.fs.unlink(path);
          return empty();
        }),
    },
    [EXT_HTTP]: {
      request: (
        method: string,
        url: string,
        headers: [string, string][],
        body: Uint8Array | undefined,
        timeoutMs: number,
      ) =>
        start(backend, me, EXT_SENDERS.http, async (sb, cap) => {
          const res = await sb.net.fetch(url, {
            method,
            headers: pairs(headers),
            body,
            timeoutMs: timeout(timeoutMs),
            maxResponseBytes: cap,
          });
          return framed({ status: res.status, headers: Object.entries(res.headers) }, res.body);
        }),
    },
    [EXT_PROCESS]: {
      spawn: (
        command: string,
        args: string[],
        env: [string, string][],
        stdin: Uint8Array | undefined,
        timeoutMs: number,
      ) =>
        start(backend, me, EXT_SENDERS.process, async (sb, cap) => {
          const r = await sb.process.spawn(command, args, {
            env: pairs(env),
            stdin,
            timeoutMs: timeout(timeoutMs),
            maxOutputBytes: cap,
          });
          return framed(
            { 'exit-code': r.exitCode, signal: r.signal, 'stdout-bytes': r.stdout.byteLength },
            r.stdout,
            r.stderr,
          );
        }),
    },
  };
}
