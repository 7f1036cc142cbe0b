/**
 * The filesystem capability check: a pure function from (capabilities, access, guest path) to
 * the normalised path and the grant root it must stay beneath — or a typed refusal. No I/O, so
 * it is cheap enough to run on every call and easy to test; the path guard adds the I/O half
 * (symlink resolution and the check at access).
 *
 * THREAT MODEL: the guest chooses the path text. It may hide a NUL byte (C APIs stop reading
 * there: `/data/in/ok\0/../../etc/passwd`), send bytes that are not UTF-8 or an overlong
 * encoding of `/` or `.` (decoders that accept them see a different path than the policy did),
 * lone UTF-16 surrogates, relative paths, or `..` that climbs out of a granted folder and back
 * in (`/data/in/../in/x` leaves `/data/in` on the way, which `openat2(RESOLVE_BENEATH)` refuses
 * and so do we). Deny rules are checked before allow rules and win. Paths under `/proc`, `/dev`
 * and `/sys` only match an exact, wildcard-free grant (see glob.ts). Allowed decisions are
 * memoised per compiled capabilities (see path-decisions.ts for why that cannot change one).
 */

import { denied, malformed } from '../deny.js';
import type { Glob } from './glob.js';
import type { Capabilities } from './grants.js';
import { decisionsOf } from './path-decisions.js';

export type Access = 'read' | 'write' | 'read-write';

export interface PathGrant {
  /** Absolute, normalised path. */
  readonly path: string;
  /** The grant root the path must resolve beneath (the deepest of the matching grants). */
  readonly root: string;
  /** Set in development mode when the grants would have refused: the audit reason. */
  readonly wouldDeny?: string;
}

/** Linux PATH_MAX; longer input is refused before any work is done on it. */
export const MAX_PATH_LENGTH = 4096;
const MAX_SEGMENT_LENGTH = 255;
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** ES2024's `String.prototype.isWellFormed` (Node 20 has it; the project's lib is ES2022). */
type WellFormed = string & { isWellFormed(): boolean };

/** Guest input as text: strings as they are, raw bytes through a fatal UTF-8 decoder. */
function textOf(input: unknown): string {
  if (typeof input === 'string') return input;
  if (input instanceof Uint8Array) {
    try {
      return utf8.decode(input);
    } catch {
      throw malformed('path is not valid UTF-8 (overlong or invalid byte sequence)');
    }
  }
  throw malformed('path must be a string');
}

/**
 * Checks one access to one path. Throws `invalid-argument` for malformed paths and
 * `capability-denied` for paths outside the grants, on a deny rule, or escaping via `..`.
 *
 * @example
 * const caps = compileCapabilities({ filesystem: { read: ['/data/in/**'] } });
 * checkPath(caps, 'read', '/data/in/./a.txt').path; // '/data/in/a.txt'
 * checkPath(caps, 'write', '/data/in/a.txt');       // throws capability-denied
 */
export function checkPath(caps: Capabilities, access: Access, input: unknown): PathGrant {
  const raw = textOf(input);
  if (raw.length > MAX_PATH_LENGTH) throw malformed(`path is longer than ${MAX_PATH_LENGTH} characters`);
  const memo = decisionsOf(caps);
  if (memo === undefined) return decide(caps, access, raw);
  const known = memo.get(access, raw);
  if (known !== undefined) return known;
  const grant = decide(caps, access, raw);
  memo.remember(access, raw, grant);
  return grant;
}

/** The check itself: pure, so its answers can be memoised. */
function decide(caps: Capabilities, access: Access, raw: string): PathGrant {
  if (!(raw as WellFormed).isWellFormed()) throw malformed('path contains a lone UTF-16 surrogate');
  if (raw.charCodeAt(0) !== 47 /* / */) throw malformed('path must be absolute', { path: raw });
  if (raw.indexOf('\0') >= 0) throw malformed('path contains a NUL byte');
  // Note: native searches beat a charCodeAt loop here (a one-pass loop over a 50-character path
  // ran ~15% more instructions). Without a `/.` no segment starts with a dot, which also spares
  // the globs their dotfile scan.
  const dotFree = raw.indexOf('/.') < 0;
  let path = raw;
  let minDepth = Number.POSITIVE_INFINITY;
  if (!dotFree || raw.indexOf('//') >= 0 || (raw.length > 1 && raw.charCodeAt(raw.length - 1) === 47)) {
    const stack: string[] = [];
    for (const seg of raw.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        if (stack.length === 0) throw denied('path climbs above /', { path: raw });
        stack.pop();
        if (stack.length < minDepth) minDepth = stack.length;
      } else stack.push(seg);
    }
    path = `/${stack.join('/')}`;
  }
  if (path.length > 1 && hasLongSegment(path))
    throw malformed('a path segment is longer than 255 characters');

  // Note: indexed loops, not `for…of`: the rule lists are frozen, and V8 does not inline the
  // array iterator over frozen arrays (it was ~5% of the check).
  const deny = caps.fsDeny;
  for (let i = 0; i < deny.length; i++) {
    if (deny[i].matches(path, dotFree))
      throw denied(`path is refused by deny rule ${deny[i].source}`, { path });
  }
  const read = access === 'write' ? undefined : firstMatch(caps.fsRead, path, dotFree);
  const write = access === 'read' ? undefined : firstMatch(caps.fsWrite, path, dotFree);
  const missing =
    (access !== 'write' && read === undefined) || (access !== 'read' && write === undefined)
      ? `no filesystem ${access === 'read-write' ? 'read and write' : access} grant covers ${path}`
      : undefined;
  if (missing !== undefined && caps.mode !== 'development') throw denied(missing, { path, access });

  const root = deeper(read?.root, write?.root) ?? parentOf(path);
  if (minDepth !== Number.POSITIVE_INFINITY && minDepth < depthOf(root)) {
    throw denied(`path leaves ${root} through ".." (resolve-beneath)`, { path: raw });
  }
  return missing === undefined ? { path, root } : { path, root, wouldDeny: missing };
}

function hasLongSegment(path: string): boolean {
  if (path.length <= MAX_SEGMENT_LENGTH) return false;
  let start = 1;
  for (let i = 1; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47) {
      if (i - start > MAX_SEGMENT_LENGTH) return true;
      start = i + 1;
    }
  }
  return false;
}

function firstMatch(globs: readonly Glob[], path: string, dotFree: boolean): Glob | undefined {
  for (let i = 0; i < globs.length; i++) if (globs[i].matches(path, dotFree)) return globs[i];
  return undefined;
}

function deeper(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.length >= b.length ? a : b;
}

function depthOf(root: string): number {
  return root === '/' ? 0 : root.split('/').length - 1;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
