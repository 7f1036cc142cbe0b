// docs/architecture.md against the code: the layer dependencies it states are the imports in
// src/, its module table names every folder of src/ (and no other), and every number in its
// "Known limits" comes from bench/RESULTS.md or docs/host.md rather than from memory.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.js';
import { blocks, read } from './markdown.js';

const PAGE = 'docs/architecture.md';

function folders(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => [`${dir}/${e.name}/`, ...folders(`${dir}/${e.name}`)]);
}

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );
}

/** Which layers (top-level folders of src/) each layer imports, from its relative imports. */
function importedLayers(): Map<string, Set<string>> {
  const layers = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  const graph = new Map(layers.map((l) => [l, new Set<string>()]));
  for (const layer of layers) {
    for (const file of files(`src/${layer}`)) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'((?:\.\.\/)+)([\w-]+)\//g)) {
        const depth = file.split('/').length - 2; // folders between src/ and the file
        if (m[1].length / 3 === depth && m[2] !== layer) graph.get(layer)!.add(m[2]);
      }
    }
  }
  return graph;
}

describe('docs — architecture.md', () => {
  const text = read(PAGE);

  it('states the imports between layers as they are in src/', () => {
    const block = blocks(text).find((b) => b.marker === 'test: layers');
    expect(block, 'a block marked <!-- test: layers -->').toBeDefined();
    const stated = new Map(
      block!.body
        .split('\n')
        .filter((l) => l.includes('→'))
        .map((l) => {
          const [layer, deps] = l.split('→').map((s) => s.trim());
          return [layer, deps === '' ? [] : deps.split(/,\s*/).sort()] as const;
        }),
    );
    const actual = new Map([...importedLayers()].map(([l, deps]) => [l, [...deps].sort()] as const));
    expect(Object.fromEntries(stated)).toEqual(Object.fromEntries(actual));
  });

  it('has one row per folder of src/ in its module table', () => {
    const rows = [...text.matchAll(/^\| `(src\/[^`]+\/)` \|/gm)].map((m) => m[1]).sort();
    expect(rows).toEqual(folders('src').sort());
  });

  it('quotes only figures that appear in bench/RESULTS.md or docs/host.md', () => {
    const section = text.slice(text.indexOf('## Known limits'));
    const prose = section.replace(/\]\([^)]*\)/g, ']'); // link targets are not figures
    const sources = `${read('bench/RESULTS.md')}\n${read('docs/host.md')}`;
    const known = new Set(sources.match(/\d+(?:[.,]\d+)*/g));
    const quoted = prose.match(/\d+(?:[.,]\d+)*/g) ?? [];
    expect(quoted.length).toBeGreaterThan(20);
    expect(quoted.filter((n) => !known.has(n))).toEqual([]);
  });
});
