// Links in docs/ lead somewhere: every relative link to an existing file or folder, every
// `#anchor` to a heading of its page (GitHub's anchors), and every repository path the issue #7
// pages name in inline code exists.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.js';
import { anchors, docsPages, links, read } from './markdown.js';

/**
 * Pages other issues are writing, which the docs may link to before they land. A link to one
 * is checked like any other once the page exists.
 */
const PENDING = new Set(['docs/authoring.md']);

const OWN = /^docs\/(README|getting-started|architecture)\.md$|^docs\/(guides|reference)\//;

describe('docs — links', () => {
  const pages = docsPages();

  it('finds the pages', () => {
    expect(pages).toContain('docs/README.md');
    expect(pages).toContain('docs/reference/cli.md');
  });

  for (const page of pages) {
    it(`${page}: every relative link and anchor resolves`, () => {
      const broken: string[] = [];
      for (const { target, line } of links(read(page))) {
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        const [path, fragment] = target.split('#') as [string, string | undefined];
        const file = path === '' ? page : normalize(join(dirname(page), decodeURI(path)));
        if (!existsSync(join(ROOT, file))) {
          if (!PENDING.has(file)) broken.push(`${page}:${line}: ${target} (no such file)`);
          continue;
        }
        if (fragment === undefined || fragment === '' || !file.endsWith('.md')) continue;
        if (statSync(join(ROOT, file)).isDirectory()) continue;
        if (!anchors(read(file)).has(fragment)) broken.push(`${page}:${line}: ${target} (no such heading)`);
      }
      expect(broken).toEqual([]);
    });
  }

  it('every repository path the issue #7 pages name in inline code exists', () => {
    const missing: string[] = [];
    for (const page of pages.filter((p) => OWN.test(p))) {
      let fenced = false;
      read(page)
        .split('\n')
        .forEach((line, index) => {
          if (/^\s*```/.test(line)) fenced = !fenced;
          if (fenced) return;
          for (const m of line.matchAll(
            /`((?:src|test|bench|scripts|fixtures|kit|wit|docs|examples)\/[^`\s]*)`/g,
          )) {
            if (/[*<>…{]/.test(m[1])) continue; // a pattern, not a path
            if (!existsSync(join(ROOT, m[1].replace(/[#:].*$/, ''))))
              missing.push(`${page}:${index + 1}: ${m[1]}`);
          }
        });
    }
    expect(missing).toEqual([]);
  });
});
