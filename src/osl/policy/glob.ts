/**
 * The path glob matcher used by filesystem grants: `*` matches within one segment, `**` matches
 * any number of whole segments (zero included), everything else is literal.
 *
 * Note: written here rather than taken from a dependency (minimatch, picomatch) on purpose. A
 * security grant needs rules those libraries make options or defaults we would have to audit on
 * every upgrade: wildcards never match a dotfile segment (`.ssh`, `.env`, `.git`) unless the
 * pattern spells the dot; `/proc`, `/dev` and `/sys` are reachable only through a pattern with
 * no wildcard at all (`/dev/null`), never through `/**` or `/dev/*`; and patterns are never
 * turned into a RegExp, so a grant cannot smuggle regex syntax (`(`, `|`, `{a,b}`) into matching.
 */

/** Trees that a wildcard can never reach: only an exact, wildcard-free pattern grants a path there. */
const SPECIAL_TREES = ['/proc', '/dev', '/sys'];

const SPECIAL_PREFIXES = SPECIAL_TREES.map((t) => `${t}/`);

export function isSpecialPath(path: string): boolean {
  // Note: hot path (every capability check); the first letter rules out most paths cheaply.
  const c = path.charCodeAt(1);
  if (c !== 112 /* p */ && c !== 100 /* d */ && c !== 115 /* s */) return false;
  for (let i = 0; i < SPECIAL_TREES.length; i++) {
    if (path === SPECIAL_TREES[i] || path.startsWith(SPECIAL_PREFIXES[i])) return true;
  }
  return false;
}

type Segment = { kind: 'literal'; text: string } | { kind: 'star'; parts: string[] } | { kind: 'globstar' };

export interface GlobOptions {
  /**
   * Deny-rule semantics: wildcards also match dotfiles and special trees, and an exact pattern
   * also covers everything beneath it. A deny rule must be at least as broad as it reads.
   */
  dot?: boolean;
}

/** A compiled glob. `root` is its literal directory prefix: the folder a grant resolves beneath. */
export interface Glob {
  readonly source: string;
  /** Longest wildcard-free leading directory, e.g. `/data/in` for `/data/in/**`. */
  readonly root: string;
  /** True when the pattern has no wildcard: it names exactly one path. */
  readonly exact: boolean;
  /**
   * Whether the absolute, normalised `path` matches. `dotFree` is the caller's promise that no
   * segment of `path` starts with `.` (the text has no `/.`), which spares a scan for dotfiles;
   * pass it only when that was checked, as `checkPath` does.
   */
  matches(path: string, dotFree?: boolean): boolean;
}

/**
 * Compiles an absolute path glob. Throws `TypeError` on a relative pattern or one with `.`/`..`
 * segments: a grant must say plainly what it grants.
 *
 * @example
 * const g = compileGlob('/data/in/**');
 * g.matches('/data/in/a/b.txt'); // true
 * g.matches('/data/in/.secret');  // false: wildcards skip dotfiles
 */
export function compileGlob(source: string, options: GlobOptions = {}): Glob {
  const dot = options.dot === true;
  if (!source.startsWith('/')) throw new TypeError(`glob must be absolute: ${JSON.stringify(source)}`);
  if (source.includes('\0')) throw new TypeError('glob contains a NUL byte');
  const raw = source === '/' ? [] : source.slice(1).replace(/\/+$/, '').split('/');
  const segments: Segment[] = raw.map((text) => {
    if (text === '' || text === '.' || text === '..') {
      throw new TypeError(`glob has an empty, "." or ".." segment: ${JSON.stringify(source)}`);
    }
    if (text === '**') return { kind: 'globstar' };
    if (text.includes('**')) throw new TypeError(`"**" must be a whole segment: ${JSON.stringify(source)}`);
    if (text.includes('*')) return { kind: 'star', parts: text.split('*') };
    return { kind: 'literal', text };
  });
  let literal = 0;
  while (literal < segments.length && segments[literal].kind === 'literal') literal++;
  const exact = literal === segments.length;
  // The root is a directory: for an exact pattern it is the parent of the named file.
  const rootCount = exact ? Math.max(0, literal - 1) : literal;
  const root = `/${raw.slice(0, rootCount).join('/')}`;
  const rest = segments.slice(rootCount);
  const prefix = root === '/' ? '/' : `${root}/`;
  const exactPath = `/${raw.join('/')}`;
  const beneathExact = `${exactPath}/`;
  // Fast path for the common `/root/**` shape: the capability check must stay in the ~100 ns range.
  const globstarOnly = rest.length === 1 && rest[0].kind === 'globstar';
  // Note: `prefix` ends in `/`, so a path whose character there is not `/` cannot start with it;
  // one `charCodeAt` turns away a sibling folder (`/data/in/secret/` vs `/data/in/photo.png`)
  // that `startsWith` would compare character by character.
  const slashAt = prefix.length - 1;

  return Object.freeze({
    source,
    root,
    exact,
    matches(path: string, dotFree = false): boolean {
      if (exact) return path === exactPath || (dot && path.startsWith(beneathExact));
      if (path === root) return (dot || !isSpecialPath(path)) && matchSegments(rest, 0, [], 0, dot);
      if (path.charCodeAt(slashAt) !== 47 /* / */ || !path.startsWith(prefix)) return false;
      if (!dot && isSpecialPath(path)) return false;
      if (globstarOnly) return dot || dotFree || !hasDotSegment(path, prefix.length);
      const tail = path.slice(prefix.length);
      return matchSegments(rest, 0, tail === '' ? [] : tail.split('/'), 0, dot);
    },
  });
}

function hasDotSegment(path: string, from: number): boolean {
  return path.charCodeAt(from) === 46 /* . */ || path.indexOf('/.', from) >= 0;
}

function matchSegments(pattern: Segment[], p: number, path: string[], i: number, dot: boolean): boolean {
  for (; p < pattern.length; p++) {
    const seg = pattern[p];
    if (seg.kind === 'globstar') {
      // Try every split point; `**` never swallows a dotfile segment.
      for (let j = i; j <= path.length; j++) {
        if (matchSegments(pattern, p + 1, path, j, dot)) return true;
        if (!dot && j < path.length && path[j].startsWith('.')) return false;
      }
      return false;
    }
    if (i >= path.length) return false;
    const name = path[i++];
    if (seg.kind === 'literal') {
      if (name !== seg.text) return false;
    } else if (!matchStar(seg.parts, name, dot)) return false;
  }
  return i === path.length;
}

/** `parts` is the segment split on `*`: first part is a prefix, last a suffix, the rest in order. */
function matchStar(parts: string[], name: string, dot: boolean): boolean {
  const first = parts[0];
  if (!dot && first === '' && name.startsWith('.')) return false;
  if (!name.startsWith(first)) return false;
  const last = parts[parts.length - 1];
  if (name.length < first.length + last.length || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let k = 1; k < parts.length - 1; k++) {
    const found = name.indexOf(parts[k], at);
    if (found < 0 || found + parts[k].length > end) return false;
    at = found + parts[k].length;
  }
  return true;
}
