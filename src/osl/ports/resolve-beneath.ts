/**
 * Symlink resolution with `RESOLVE_BENEATH` semantics, shared by every filesystem port so the
 * real and in-memory ones agree on what "beneath" means.
 *
 * THREAT MODEL: a granted folder may contain symlinks the guest did not make (an unpacked
 * archive, another process, an earlier version of the component): `in/link -> /etc`,
 * `in/link -> ../../secret`, `in/a -> /etc/x` where `/etc/x -> /data/in/b` (out and back in).
 * Each is resolved here component by component; a `..` that climbs above the root or an
 * absolute target outside it refuses the whole path — even if a later step would come back.
 * This is the *check*; each port repeats the containment test at the syscall (the *use*), so a
 * link swapped in between still fails.
 */

import { denied, malformed } from '../deny.js';

/** What one path component is on disk right now. */
export type Probe = { kind: 'missing' } | { kind: 'symlink'; target: string } | { kind: 'other' };

/** Linux's MAXSYMLINKS. */
export const MAX_SYMLINKS = 40;

export interface ResolveOptions {
  /**
   * `false` refuses every absolute link target, even one under the root: WASI's rule, where the
   * guest's namespace has no host paths for such a target to name. Default `true`.
   */
  absoluteLinks?: boolean;
}

/**
 * Resolves `segments` beneath `realRoot` and returns the real segments. `root` is the root as
 * the grant spells it: absolute link targets under either spelling count as beneath.
 */
export function resolveBeneath(
  root: string,
  realRoot: string,
  segments: readonly string[],
  probe: (absolute: string) => Probe,
  options: ResolveOptions = {},
): string[] {
  const out: string[] = [];
  const queue = [...segments];
  let links = 0;
  let missing = false;
  while (queue.length > 0) {
    const seg = queue.shift()!;
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) throw denied(`path resolves above its root ${root}`);
      out.pop();
      continue;
    }
    if (missing) {
      out.push(seg);
      continue;
    }
    const full = realRoot === '/' ? `/${[...out, seg].join('/')}` : `${realRoot}/${[...out, seg].join('/')}`;
    const found = probe(full);
    if (found.kind === 'symlink') {
      if (++links > MAX_SYMLINKS) throw malformed('too many levels of symbolic links', { errno: 'ELOOP' });
      let target = found.target;
      if (target.startsWith('/')) {
        if (options.absoluteLinks === false) {
          throw denied(`symlink ${full} has an absolute target, which is never followed`, { target });
        }
        const rel = relativeTo(target, realRoot) ?? relativeTo(target, root);
        if (rel === undefined) throw denied(`symlink ${full} points outside ${root}`, { target });
        out.length = 0;
        target = rel;
      }
      queue.unshift(...target.split('/'));
      continue;
    }
    if (found.kind === 'missing') missing = true;
    out.push(seg);
  }
  return out;
}

function relativeTo(target: string, base: string): string | undefined {
  if (target === base) return '';
  const prefix = base === '/' ? '/' : `${base}/`;
  return target.startsWith(prefix) ? target.slice(prefix.length) : undefined;
}
