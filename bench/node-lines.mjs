// One table of the engine, host and kv figures on each Node.js line that bench/node-lines.sh
// measured: a row per figure, a column per line, and each line's figure relative to the first.
//   node bench/node-lines.mjs bench/.tmp/lines
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatNs } from './support.mjs';

const dir = process.argv[2] ?? 'bench/.tmp/lines';
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const versions = [...new Set(files.map((f) => f.split('-')[0]))].sort(
  (a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10),
);

/** [figure, value, display] rows of one bench's JSON, whatever its shape. */
function rows(bench, doc) {
  if (bench === 'host') {
    return Object.entries(doc.results).map(([figure, r]) => [
      figure,
      r.value,
      `${Math.round(r.value).toLocaleString('en')} ${r.unit}`,
    ]);
  }
  const list = Array.isArray(doc) ? doc : doc.results;
  return list.map((r) => [r.figure, r.ns, formatNs(r.ns)]);
}

for (const bench of ['engine', 'host', 'kv']) {
  const byVersion = new Map();
  for (const v of versions) {
    try {
      byVersion.set(
        v,
        new Map(
          rows(bench, JSON.parse(readFileSync(join(dir, `${v}-${bench}.json`), 'utf8'))).map((r) => [
            r[0],
            r,
          ]),
        ),
      );
    } catch {
      byVersion.set(v, new Map());
    }
  }
  const figures = [...new Set([...byVersion.values()].flatMap((m) => [...m.keys()]))];
  console.log(`\n### ${bench}\n`);
  console.log(`| figure | ${versions.map((v) => `Node ${v}`).join(' | ')} |`);
  console.log(`|---|${versions.map(() => '---:').join('|')}|`);
  for (const figure of figures) {
    const base = byVersion.get(versions[0]).get(figure)?.[1];
    const cells = versions.map((v, i) => {
      const r = byVersion.get(v).get(figure);
      if (r === undefined) return '—';
      return i === 0 || base === undefined ? r[2] : `${r[2]} (${(r[1] / base).toFixed(2)}×)`;
    });
    console.log(`| ${figure} | ${cells.join(' | ')} |`);
  }
}
