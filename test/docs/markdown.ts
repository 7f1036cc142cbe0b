/**
 * What the docs tests read out of Markdown: fenced code blocks with the marker written before
 * them, links, and heading anchors (GitHub's rules).
 *
 * Markers are HTML comments on the line before a fence (blank lines between are allowed):
 *
 * - `<!-- test -->` before a `sh` block: its commands run, in order, in one shell session per page.
 *   `#` lines right after a command are its expected output: each must match an output line, in
 *   order (other lines may come between); `…` matches anything. A command must exit 0, unless
 *   a line ends in `(exit N)` (then N), or shows an error (`error [code]: …`, `"ok":false`; then
 *   non-zero).
 *   A command ending in `&` runs in the background: its expected lines may arrive later.
 * - `<!-- test: file <path> -->`: the block is written to `<path>` in the session's folder first.
 * - `<!-- include: <file> -->`: the block must equal `<file>` (relative to the page).
 * - `<!-- output: <file> -->`: the block is what running `<file>` prints (same matching rules).
 * - `<!-- not tested: <reason> -->`: a command block deliberately not run, and why.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../support/fixtures.js';

export interface Block {
  /** The fence's info string, e.g. `sh`, `toml`. */
  lang: string;
  /** The marker comment's text (`test`, `test: file host.toml`, …), if any. */
  marker: string | undefined;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
}

export const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console']);

export function blocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]);
    if (open === null) continue;
    let j = i - 1;
    while (j >= 0 && lines[j].trim() === '') j--;
    const marker = j >= 0 ? /^<!--\s*(.*?)\s*-->$/.exec(lines[j].trim())?.[1] : undefined;
    const body: string[] = [];
    let k = i + 1;
    while (k < lines.length && !lines[k].trimStart().startsWith(open[2])) body.push(lines[k++]);
    out.push({ lang: open[3], marker, body: body.join('\n'), line: i + 1 });
    i = k;
  }
  return out;
}

export interface Step {
  command: string;
  expected: string[];
  line: number;
}

/** The commands of a `sh` block, each with the `#` lines that follow it. */
export function steps(block: Block): Step[] {
  const out: Step[] = [];
  const lines = block.body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    if (line.trimStart().startsWith('#')) {
      if (out.length === 0) continue; // commentary before the first command
      out[out.length - 1].expected.push(line.trimStart().replace(/^# ?/, ''));
      continue;
    }
    let command = line;
    const at = i;
    while (command.endsWith('\\') && i + 1 < lines.length) command = `${command}\n${lines[++i]}`;
    out.push({ command, expected: [], line: block.line + 1 + at });
  }
  return out;
}

/** An expected line as a regular expression: `…` matches anything, runs of spaces any run of spaces, the rest literally. */
export function pattern(expected: string): RegExp {
  const parts = expected
    .trim()
    .split('…')
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/** The expected lines not found in `output`, in order (empty when all matched). */
export function unmatched(expected: string[], output: string): string[] {
  const lines = output.split('\n').map((l) => l.trim());
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const re = pattern(expected[i]);
    while (at < lines.length && !re.test(lines[at])) at++;
    if (at === lines.length) return expected.slice(i);
    at++;
  }
  return [];
}

const EXIT = /\s*\(exit (\d+)\)$/;

/** The lines to match, without a trailing `(exit N)`. */
export function outputLines(expected: string[]): string[] {
  return expected.map((l) => l.replace(EXIT, ''));
}

/**
 * The exit status a command must have: the `N` of a `(exit N)` ending one of its lines, else
 * non-zero when it shows an error (`error [code]: …`, `"ok":false`), else 0.
 */
export function expectedStatus(expected: string[]): number | 'non-zero' {
  for (const line of expected) {
    const m = EXIT.exec(line);
    if (m !== null) return Number(m[1]);
  }
  return expected.some((l) => /^error \[[a-z-]+\]|"ok":false/.test(l.trim())) ? 'non-zero' : 0;
}

// ---------------------------------------------------------------------------------------------
// Links and anchors

export interface Link {
  target: string;
  line: number;
}

/** Relative and absolute links outside code: `[text](target)` and `[label]: target`. */
export function links(markdown: string): Link[] {
  const out: Link[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((raw, index) => {
    const f = /^\s*(`{3,}|~{3,})/.exec(raw);
    if (f !== null) {
      if (fence === undefined) fence = f[1];
      else if (raw.trim().startsWith(fence)) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    const line = raw.replace(/`[^`]*`/g, '');
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
      out.push({ target: m[1], line: index + 1 });
    const ref = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (ref !== null) out.push({ target: ref[1], line: index + 1 });
  });
  return out;
}

/** The anchors GitHub gives a page's headings (`## The WIT: \`a:b@1\`` → `the-wit-ab1`), duplicates numbered. */
export function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const raw of markdown.split('\n')) {
    const f = /^\s*(`{3,}|~{3,})/.exec(raw);
    if (f !== null) {
      if (fence === undefined) fence = f[1];
      else if (raw.trim().startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (h === null) continue;
    const text = h[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/[`*]/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every Markdown file under docs/, as paths relative to the repository. */
export function docsPages(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
    );
  return walk('docs').sort();
}

export function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

export function fromRoot(path: string): string {
  return relative(ROOT, path);
}
