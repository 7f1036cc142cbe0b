/**
 * `wasi:filesystem/preopens` and `wasi:filesystem/types` (0.2.x) on real directories: the
 * embedder's `preopens`, and nothing else of the host.
 *
 * THREAT MODEL: the guest chooses every path, flag and offset, and others may change the
 * directories while it runs. Every path is resolved beneath the descriptor it is relative to
 * with RESOLVE_BENEATH semantics (resolve.ts: absolute paths, `..` above it, symlinks out of it
 * or with an absolute target are refused) and used through a verified parent directory without
 * following a final symlink (osl's beneath.ts), so a symlink swapped in after the check is
 * refused too. A read-only preopen refuses every change. Those refusals answer `not-permitted`
 * (as wasmtime) and are reported through `onDenied` for the host's audit; ordinary failures
 * (no such file…) are the OS's errno as an `error-code`. Nothing a guest passes can throw out
 * of here except a trap of that guest's instance: a host bug traps the instance, not the process.
 *
 * Host functions are synchronous (node:fs `*Sync`): they run on the guest's thread.
 */

import type { WasiContext } from '../options.js';
import { IoError } from '../streams.js';
import { err, type Interface, ok, self } from '../values.js';
import { Descriptor, DirectoryDescriptor } from './descriptor.js';
import * as own from './descriptor-ops.js';
import * as at from './directory-ops.js';
import { errnoCode, outcomeOf } from './errors.js';
import { FdPool } from './fd-pool.js';
import { resolvePreopens } from './preopens.js';

export const DESCRIPTOR_METHODS = [
  'read-via-stream',
  'write-via-stream',
  'append-via-stream',
  'advise',
  'sync-data',
  'get-flags',
  'get-type',
  'set-size',
  'set-times',
  'read',
  'write',
  'read-directory',
  'sync',
  'create-directory-at',
  'stat',
  'stat-at',
  'set-times-at',
  'link-at',
  'open-at',
  'readlink-at',
  'remove-directory-at',
  'rename-at',
  'symlink-at',
  'unlink-file-at',
  'is-same-object',
  'metadata-hash',
  'metadata-hash-at',
] as const;

export const DIRECTORY_ENTRY_STREAM_METHODS = ['read-directory-entry'] as const;

type DescriptorMethod = (typeof DESCRIPTOR_METHODS)[number];

/** Longest subject handed to `onDenied` (the audit log bounds subjects again). */
const MAX_SUBJECT_CHARS = 1024;

function bounded(text: string): string {
  return text.length > MAX_SUBJECT_CHARS ? `${text.slice(0, MAX_SUBJECT_CHARS)}…` : text;
}

/**
 * What a refusal is about, for the audit: each path joined to the guest path of the descriptor
 * it is relative to (`/data/sub` + `../x` → `/data/sub/../x`, as the guest wrote it). A
 * symlink's target is shown as written, after the link: `/data/link -> ../../etc`.
 */
function subjectOf(method: DescriptorMethod, args: readonly unknown[]): string {
  const parts: string[] = [];
  let base: Descriptor | undefined;
  for (const arg of args) {
    if (arg instanceof Descriptor) {
      base = arg;
    } else if (typeof arg === 'string') {
      const prefix =
        base === undefined || base.guestPath.endsWith('/') ? (base?.guestPath ?? '') : `${base.guestPath}/`;
      parts.push(bounded(arg.startsWith('/') ? arg : `${prefix}${arg}`));
    }
  }
  if (method === 'symlink-at' && parts.length === 2) return `${parts[1]} -> ${bounded(String(args[1]))}`;
  return parts.length > 0 ? parts.join(' -> ') : (base?.guestPath ?? '');
}

export function filesystemInterfaces(ctx: WasiContext): Record<string, Interface> {
  const roots = resolvePreopens(ctx.preopens);
  const preopened = roots.map((root) => [new DirectoryDescriptor(root, [], true), root.guest] as const);
  const pool = new FdPool(ctx.limits.maxOpenFiles);
  const limits = ctx.limits;
  const where = (m: string) => `wasi:filesystem/types#[method]descriptor.${m}`;

  /** A descriptor method: its value as `ok`, a filesystem failure as `err(code)`, refusals reported. */
  const method =
    (name: DescriptorMethod, fn: (d: Descriptor, ...args: any[]) => unknown) =>
    (d: unknown, ...args: unknown[]) => {
      const descriptor = self(d, Descriptor, where(name));
      try {
        return ok(fn(descriptor, ...args));
      } catch (error) {
        const outcome = outcomeOf(error);
        if (outcome === undefined) throw error;
        if (outcome.denied !== undefined) {
          ctx.denied(`wasi.filesystem.${name}`, subjectOf(name, [descriptor, ...args]), outcome.denied);
        }
        return err(outcome.code);
      }
    };
  const streamDenied = (d: Descriptor) => (operation: string, reason: string) =>
    ctx.denied(`wasi.filesystem.${operation}`, d.guestPath, reason);

  const types: Interface = {
    '[method]descriptor.read-via-stream': method('read-via-stream', (d, offset: bigint) =>
      own.readViaStream(d, offset, limits, streamDenied(d)),
    ),
    '[method]descriptor.write-via-stream': method('write-via-stream', (d, offset: bigint) =>
      own.writeViaStream(d, offset, limits, streamDenied(d)),
    ),
    '[method]descriptor.append-via-stream': method('append-via-stream', (d) =>
      own.writeViaStream(d, 'append', limits, streamDenied(d)),
    ),
    // Advice is only advice: accepted and ignored (files only, as wasmtime).
    '[method]descriptor.advise': method('advise', (d) => void own.asFile(d)),
    '[method]descriptor.sync-data': method('sync-data', (d) => own.sync(d, true)),
    '[method]descriptor.get-flags': method('get-flags', (d) => d.flags()),
    '[method]descriptor.get-type': method('get-type', own.getType),
    '[method]descriptor.set-size': method('set-size', own.setSize),
    '[method]descriptor.set-times': method('set-times', own.setTimes),
    '[method]descriptor.read': method('read', (d, len: bigint, offset: bigint) =>
      own.read(d, len, offset, limits),
    ),
    '[method]descriptor.write': method('write', own.write),
    '[method]descriptor.read-directory': method('read-directory', at.readDirectory),
    '[method]descriptor.sync': method('sync', (d) => own.sync(d, false)),
    '[method]descriptor.create-directory-at': method('create-directory-at', at.createDirectoryAt),
    '[method]descriptor.stat': method('stat', own.stat),
    '[method]descriptor.stat-at': method('stat-at', at.statAt),
    '[method]descriptor.set-times-at': method('set-times-at', at.setTimesAt),
    '[method]descriptor.link-at': method('link-at', at.linkAt),
    '[method]descriptor.open-at': method('open-at', (d, pathFlags, path, openFlags, flags) =>
      at.openAt(d, pathFlags ?? {}, path, openFlags ?? {}, flags ?? {}, pool),
    ),
    '[method]descriptor.readlink-at': method('readlink-at', at.readlinkAt),
    '[method]descriptor.remove-directory-at': method('remove-directory-at', at.removeDirectoryAt),
    '[method]descriptor.rename-at': method('rename-at', at.renameAt),
    '[method]descriptor.symlink-at': method('symlink-at', at.symlinkAt),
    '[method]descriptor.unlink-file-at': method('unlink-file-at', at.unlinkFileAt),
    '[method]descriptor.is-same-object': (a: unknown, b: unknown) =>
      own.isSameObject(
        self(a, Descriptor, where('is-same-object')),
        self(b, Descriptor, where('is-same-object')),
      ),
    '[method]descriptor.metadata-hash': method('metadata-hash', own.metadataHashOf),
    '[method]descriptor.metadata-hash-at': method('metadata-hash-at', at.metadataHashAt),
    '[method]directory-entry-stream.read-directory-entry': (s: unknown) => {
      const stream = self(
        s,
        at.DirectoryEntryStream,
        'wasi:filesystem/types#[method]directory-entry-stream.read-directory-entry',
      );
      try {
        return ok(stream.read());
      } catch (error) {
        const outcome = outcomeOf(error);
        if (outcome === undefined) throw error;
        return err(outcome.code);
      }
    },
    // The error behind a stream's `last-operation-failed`, when a file stream failed.
    'filesystem-error-code': (e: unknown) => {
      if (!(e instanceof IoError)) return undefined;
      const outcome = e.cause === undefined ? undefined : outcomeOf(e.cause);
      if (outcome !== undefined) return outcome.code;
      return e.errno === undefined ? undefined : errnoCode(e.errno);
    },
  };
  return {
    'wasi:filesystem/preopens': { 'get-directories': () => preopened.map(([d, name]) => [d, name]) },
    'wasi:filesystem/types': types,
  };
}
