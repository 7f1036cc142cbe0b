/**
 * The *check* half of every path a guest passes: its text validated, then resolved component by
 * component beneath the directory descriptor it is relative to (`resolveBeneath`, the rule osl
 * uses for its own port), giving real segments beneath the preopen's root. The *use* half —
 * reaching those segments without following anything swapped in since — is osl's `beneath.ts`.
 *
 * THREAT MODEL: the guest chooses the text. WASI paths are relative, so an absolute path is
 * refused, as is any `..` or symlink step that leaves the descriptor's directory (even one that
 * comes back), and any symlink with an absolute target — the guest's namespace has no host
 * paths, so such a target can only mean the host's (wasmtime and the WASI spec: `not-permitted`).
 * A NUL byte would cut the path short in a C API: `invalid`. A path of more than PATH_MAX
 * characters is refused before any work is done on it.
 */

import { probeDisk } from '../../../osl/node/beneath.js';
import { resolveBeneath } from '../../../osl/ports/resolve-beneath.js';
import { type ErrorCode, Refusal, refuse } from './errors.js';
import type { Root } from './preopens.js';

/** Linux PATH_MAX. */
const MAX_PATH_CHARS = 4096;

/** A directory a path is relative to: a root and the real segments beneath it. */
export interface Base {
  readonly root: Root;
  readonly segments: readonly string[];
}

export interface Resolved {
  /** Real segments beneath the root (not the base): what osl's `beneath.ts` reaches. */
  readonly segments: string[];
  /** The path ended in `/`: it must name a directory. */
  readonly mustBeDirectory: boolean;
}

export function realPathOf(root: Root, segments: readonly string[]): string {
  if (segments.length === 0) return root.real;
  return root.real === '/' ? `/${segments.join('/')}` : `${root.real}/${segments.join('/')}`;
}

/**
 * Resolves `path` beneath `base`. `follow`: a symlink in the last component is followed too
 * (`path-flags.symlink-follow`); a trailing `/` always follows, as in POSIX.
 */
export function resolveAt(base: Base, path: string, follow: boolean): Resolved {
  return resolve(base, path, follow ? 'follow' : 'no-follow');
}

/**
 * Resolves `path` to a directory entry to create, remove or rename: the last component is a
 * name and is never followed (a trailing `/` neither). `.`, `..` or the base itself as that
 * name fail with `dotCode` (what POSIX answers for the operation).
 */
export function resolveEntry(base: Base, path: string, dotCode: ErrorCode): Resolved {
  return resolve(base, path, 'entry', dotCode);
}

function resolve(
  base: Base,
  path: string,
  last: 'follow' | 'no-follow' | 'entry',
  dotCode?: ErrorCode,
): Resolved {
  if (path.length === 0) throw new Refusal('no-entry', 'the path is empty');
  if (path.length > MAX_PATH_CHARS)
    throw new Refusal('name-too-long', `the path is longer than ${MAX_PATH_CHARS}`);
  if (path.includes('\0')) throw new Refusal('invalid', 'the path contains a NUL byte');
  if (path.startsWith('/'))
    throw refuse('absolute paths are refused: WASI paths are relative to a directory');
  const parts = path.split('/');
  const mustBeDirectory = parts.length > 1 && parts[parts.length - 1] === '';
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const baseReal = realPathOf(base.root, base.segments);
  const beneath = (segments: readonly string[]) =>
    resolveBeneath(baseReal, baseReal, segments, probeDisk, { absoluteLinks: false });
  const leaf = parts[parts.length - 1];
  if (last === 'entry' && (leaf === '.' || leaf === '..')) {
    throw new Refusal(dotCode ?? 'invalid', `"${leaf}" names no entry to change`);
  }
  if (last === 'follow' || (last === 'no-follow' && mustBeDirectory)) {
    return { segments: [...base.segments, ...beneath(parts)], mustBeDirectory };
  }
  const resolved = beneath(parts.slice(0, -1));
  if (leaf === '..') {
    if (resolved.length === 0) throw refuse('path resolves above its directory');
    resolved.pop();
  } else if (leaf !== '.') {
    resolved.push(leaf);
  }
  return { segments: [...base.segments, ...resolved], mustBeDirectory };
}
