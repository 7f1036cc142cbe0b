// Combines several `node bench/engine.mjs --json` outputs into one markdown table: the median
// of each figure across runs, and the median of each run's ratio (ratios are taken within a
// run, where both sides saw the same machine state).
//   node bench/summarize.mjs bench/.tmp/run-*.json
import { readFileSync } from 'node:fs';
import { formatNs, median } from './support.mjs';

const runs = process.argv.slice(2).map((file) => JSON.parse(readFileSync(file, 'utf8')));
const fmt = formatNs;

const m = runs[0].machine;
console.log(
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}. ${runs.length} runs × ${m.rounds} rounds; medians.\n`,
);
console.log('| figure | median | ratio (median of runs) |');
console.log('|---|---:|---|');
for (const [i, first] of runs[0].results.entries()) {
  const values = runs.map((r) => r.results[i]);
  const ratio = Object.keys(first)
    .filter((k) => k !== 'figure' && k !== 'ns')
    .map((k) => {
      const v = median(values.map((x) => x[k]));
      return k === 'overhead' ? `overhead ${(v * 100).toFixed(0)}%` : `${k} ${v.toFixed(2)}×`;
    })
    .join(', ');
  console.log(`| ${first.figure} | ${fmt(median(values.map((x) => x.ns)))} | ${ratio} |`);
}
