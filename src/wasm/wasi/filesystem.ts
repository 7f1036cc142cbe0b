/**
 * `wasi:filesystem/preopens` and `wasi:filesystem/types`: present so that components built with
 * a WASI libc link, and refusing everything.
 *
 * Threat model: WASI filesystem access would be a second way to files beside
 * `airssys:ext-filesystem`, one that bypasses the osl guard chain (path guard, grants, quota,
 * audit) — Node's `node:wasi` and jco's preview2-shim hand the guest the host's real files. So
 * there are no preopened directories, hence no descriptor a guest could hold, and every
 * function of `descriptor` and `directory-entry-stream` answers `error-code.access` and is
 * reported through `onDenied`. A libc without preopens fails `fopen` itself (ENOTCAPABLE)
 * without calling the host: that refusal is invisible here, and cannot be audited.
 *
 * A component declares only the functions it uses, but every declared one must be provided or
 * linking fails, so the refusals are generated from the complete lists below (WASI 0.2.0–0.2.12
 * have the same functions; `test/engine/wasi.test.ts` checks them against the WIT).
 */

import type { WasiContext } from './options.js';
import { err, type Interface } from './values.js';

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

/** The one descriptor method whose result is not a `result<_, error-code>`. */
const RETURNS_BOOL = new Set<string>(['is-same-object']);

const REASON =
  'WASI filesystem access is not granted; files reach a component through airssys:ext-filesystem';
const ACCESS = Object.freeze(err('access'));
/** Longest path echoed to `onDenied` (the audit log bounds subjects again). */
const MAX_SUBJECT_CHARS = 1024;

export function filesystemInterfaces(ctx: WasiContext): Record<string, Interface> {
  const refuse = (method: string) => {
    const result = RETURNS_BOOL.has(method) ? false : ACCESS;
    // Every string parameter of these functions is a path.
    return (...args: unknown[]) => {
      const paths = args.filter((a): a is string => typeof a === 'string');
      ctx.denied(
        `wasi.filesystem.${method}`,
        paths
          .map((p) => (p.length > MAX_SUBJECT_CHARS ? `${p.slice(0, MAX_SUBJECT_CHARS)}…` : p))
          .join(' -> '),
        REASON,
      );
      return result;
    };
  };
  const types: Interface = {
    // Maps a stream error to a filesystem error code; the streams here never fail with one.
    'filesystem-error-code': () => undefined,
  };
  for (const m of DESCRIPTOR_METHODS) types[`[method]descriptor.${m}`] = refuse(m);
  for (const m of DIRECTORY_ENTRY_STREAM_METHODS) types[`[method]directory-entry-stream.${m}`] = refuse(m);
  return {
    'wasi:filesystem/preopens': { 'get-directories': () => [] },
    'wasi:filesystem/types': types,
  };
}
