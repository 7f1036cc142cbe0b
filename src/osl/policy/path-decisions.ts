/**
 * The last few path checks a component's capabilities *allowed*, remembered so that a guest
 * touching the same files again pays a string comparison instead of the whole lexical check
 * (issue #5: the check alone must stay within 200 ns).
 *
 * THREAT MODEL: a memo in front of a security check must never answer differently than the
 * check would. It holds because `checkPath` is a pure function of (capabilities, access, path
 * text) — no clock, no disk — and the memo is keyed by exactly that:
 * - capabilities: one memo per compiled `Capabilities` object, registered only by
 *   `compileCapabilities` after it froze the object, its rule lists and their globs, so the rules
 *   a decision was made under cannot change under it. A copy (`{ ...caps }`) or a hand-built
 *   object has no memo and is checked in full every time.
 * - access: one memo per access, so a path allowed for `read` is never an answer for `write`.
 * - path: the guest's text itself, before normalising, compared with `===`; equal text gives an
 *   equal decision.
 * Only allowed decisions are stored (a refusal throws before anything is remembered), and every
 * caller gets its own copy of the grant, so no caller can alter what the next one is told. The
 * I/O half — symlinks resolved beneath the root, the real path checked again, the containment
 * test repeated at the syscall — is not memoised: it stays in the path guard and the ports.
 *
 * Note: a small ring compared with `===` rather than a `Map`. A guest's path arrives as a fresh
 * string each call; hashing it, and keeping a larger map's entries alive, added 200–300 ns to
 * every miss on the bench machine, while a miss here costs one comparison per entry (most stop at
 * the length; equal lengths cost ~35 ns each there, which is why there are 4 entries, not 8).
 * The memory held is bounded by construction.
 */

import type { Capabilities } from './grants.js';
import type { Access, PathGrant } from './path-check.js';

/** Decisions remembered per access; the oldest is overwritten. */
export const DECISION_CACHE_ENTRIES = 4;
/** Longer paths are checked in full every time rather than retained. */
export const DECISION_CACHE_KEY_LENGTH = 1024;

/** The last `DECISION_CACHE_ENTRIES` allowed decisions for one access. */
class Ring {
  private readonly paths: string[] = new Array(DECISION_CACHE_ENTRIES).fill('');
  private readonly grants: (PathGrant | undefined)[] = new Array(DECISION_CACHE_ENTRIES).fill(undefined);
  private next = 0;

  get(path: string): PathGrant | undefined {
    const paths = this.paths;
    const length = path.length;
    for (let i = 0; i < paths.length; i++) {
      // Note: the length first, inline; most misses stop there without a call to compare text.
      if (paths[i].length === length && paths[i] === path) {
        const grant = this.grants[i];
        if (grant !== undefined) return copy(grant);
      }
    }
    return undefined;
  }

  remember(path: string, grant: PathGrant): void {
    if (path.length > DECISION_CACHE_KEY_LENGTH) return;
    this.paths[this.next] = path;
    this.grants[this.next] = copy(grant);
    this.next = (this.next + 1) % DECISION_CACHE_ENTRIES;
  }

  get size(): number {
    return this.grants.filter((g) => g !== undefined).length;
  }
}

function copy(g: PathGrant): PathGrant {
  return g.wouldDeny === undefined
    ? { path: g.path, root: g.root }
    : { path: g.path, root: g.root, wouldDeny: g.wouldDeny };
}

export class PathDecisions {
  private readonly read = new Ring();
  private readonly write = new Ring();
  private readonly readWrite = new Ring();

  /** A copy of the grant an earlier, identical check returned, if still remembered. */
  get(access: Access, path: string): PathGrant | undefined {
    return this.ringOf(access)?.get(path);
  }

  /** Remembers an allowed decision (a copy of it). */
  remember(access: Access, path: string, grant: PathGrant): void {
    this.ringOf(access)?.remember(path, grant);
  }

  /** Decisions currently remembered, for each access. */
  sizes(): Record<Access, number> {
    return { read: this.read.size, write: this.write.size, 'read-write': this.readWrite.size };
  }

  private ringOf(access: Access): Ring | undefined {
    // Note: anything but the three accesses (a JavaScript caller's typo) is never memoised.
    if (access === 'read') return this.read;
    if (access === 'write') return this.write;
    return access === 'read-write' ? this.readWrite : undefined;
  }
}

const memos = new WeakMap<Capabilities, PathDecisions>();

/** Gives frozen capabilities a memo. Only `compileCapabilities` calls this, after freezing. */
export function rememberDecisionsFor(caps: Capabilities): void {
  memos.set(caps, new PathDecisions());
}

/** The memo of `caps`, or `undefined` for capabilities not compiled by `compileCapabilities`. */
export function decisionsOf(caps: Capabilities): PathDecisions | undefined {
  return memos.get(caps);
}
