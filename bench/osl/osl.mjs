// osl benchmarks (issue #5): a granted, audited 4 KiB file read through the whole guard chain
// (audit → path guard → egress → process → quota → NodeFileSystem, SQLite audit log in WAL
// mode) against a direct `fs` read of the same file, and a capability check alone (the same path
// again, as this bench has always timed it; also the full check, and a freshly decoded path that
// was or was not checked just before). Targets: guarded read ≤ 2× direct; capability check ≤ 200 ns.
//
//   npx tsc -p tsconfig.build.json --outDir /tmp/osl-dist
//   ln -sfn "$PWD/node_modules" /tmp/osl-dist/node_modules   # better-sqlite3 must resolve from there
//   OSL_DIST=/tmp/osl-dist node bench/osl/osl.mjs
//
// OSL_DIST defaults to ../../dist (the built package). Medians of ROUNDS rounds.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from '../support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, process.env.OSL_DIST ?? '../../dist');
const osl = await import(pathToFileURL(join(dist, 'osl', 'index.js')).href);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const READS = Number(process.env.BENCH_READS ?? 5000);

const dir = mkdtempSync(join(tmpdir(), 'airssys-osl-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'data', 'in'), { recursive: true });
const file = join(dir, 'data', 'in', 'payload.bin');
writeFileSync(file, Buffer.alloc(4096, 7));

const audit = new osl.SqliteAuditLog({ path: join(dir, 'audit.db') });
const sandbox = osl.createSandbox({
  component: 'bench',
  version: '1.0.0',
  grants: { filesystem: { read: [`${dir}/data/in/**`], deny: [`${dir}/data/in/secret/**`] } },
  audit,
});

// Async vs async: the guarded read is a promise API, so the baseline is `fs.promises.readFile`.
// The synchronous `readFileSync` is reported too, for scale.
async function timeAsync(fn, n) {
  for (let i = 0; i < Math.min(n, 500); i++) await fn();
  const per = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    per.push(Number(process.hrtime.bigint() - t) / n);
  }
  return median(per);
}

/**
 * Each synchronous figure gets its own compiled loop (as in bench/engine.mjs), so V8's feedback
 * for one callee does not make the call site polymorphic for the next.
 */
function timeSync(fn, n) {
  const run = new Function(
    'fn',
    'n',
    'rounds',
    `for (let i = 0; i < 20000; i++) fn();
     const per = [];
     for (let r = 0; r < rounds; r++) {
       const t = process.hrtime.bigint();
       for (let i = 0; i < n; i++) fn();
       per.push(Number(process.hrtime.bigint() - t) / n);
     }
     return per;`,
  );
  return median(run(fn, n, ROUNDS));
}

const direct = () => readFile(file);
const guarded = () => sandbox.fs.readFile(file);
const check = osl.compileCapabilities({
  filesystem: {
    read: [`${dir}/data/in/**`, '/srv/app/**'],
    write: ['/srv/out/**'],
    deny: [`${dir}/data/in/secret/**`],
  },
});
let sink = 0;
// A guest's path reaches the check as a flat string (decoded from its memory); `file` was built by
// concatenation, and V8 string operations on such a "cons" string are markedly slower. Two equal
// copies, taken in turn, so the optimiser cannot treat the path as a constant.
const guestPaths = [JSON.parse(JSON.stringify(file)), JSON.parse(JSON.stringify(file))];
let turn = 0;
const capabilityCheck = () => {
  sink += osl.checkPath(check, 'read', guestPaths[(turn ^= 1)]).path.length;
};
// The full check, every time: a spread copy of compiled capabilities has no memo of decisions.
const uncached = { ...check };
const fullCheck = () => {
  sink += osl.checkPath(uncached, 'read', guestPaths[(turn ^= 1)]).path.length;
};
// What a host call really does: decode the guest's bytes into a fresh string, then check it —
// the same path again (remembered), or one of 1,024 different files (never remembered).
const decoder = new TextDecoder();
const fileBytes = new TextEncoder().encode(file);
const manyBytes = Array.from({ length: 1024 }, (_, i) =>
  new TextEncoder().encode(`${dir}/data/in/f${i}.bin`),
);
let next = 0;
const decodeSame = () => {
  sink += decoder.decode(fileBytes).length;
};
const decodeAndCheckSame = () => {
  sink += osl.checkPath(check, 'read', decoder.decode(fileBytes)).path.length;
};
const decodeMany = () => {
  sink += decoder.decode(manyBytes[(next = (next + 1) & 1023)]).length;
};
const decodeAndCheckMany = () => {
  sink += osl.checkPath(check, 'read', decoder.decode(manyBytes[(next = (next + 1) & 1023)])).path.length;
};

// Alternate the two reads so both see the same machine state; ratio from per-round medians.
const rounds = [];
for (let r = 0; r < 3; r++) {
  const d = await timeAsync(direct, READS);
  const g = await timeAsync(guarded, READS);
  rounds.push({ d, g, ratio: g / d });
}
const directNs = median(rounds.map((x) => x.d));
const guardedNs = median(rounds.map((x) => x.g));
const ratio = median(rounds.map((x) => x.ratio));
const syncNs = timeSync(() => readFileSync(file), READS);
const checkNs = timeSync(capabilityCheck, 1_000_000);
const fullCheckNs = timeSync(fullCheck, 1_000_000);
const decodeSameNs = timeSync(decodeSame, 1_000_000);
const freshSameNs = timeSync(decodeAndCheckSame, 1_000_000);
const decodeManyNs = timeSync(decodeMany, 1_000_000);
const freshManyNs = timeSync(decodeAndCheckMany, 1_000_000);
audit.flush();
const recorded = audit.query({ component: 'bench', limit: 1_000_000 }).length;
audit.close();

const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const results = {
  node: process.version,
  directReadNs: Math.round(directNs),
  guardedAuditedReadNs: Math.round(guardedNs),
  ratio: Number(ratio.toFixed(2)),
  readFileSyncNs: Math.round(syncNs),
  capabilityCheckNs: Math.round(checkNs),
  fullCheckNs: Math.round(fullCheckNs),
  decodeNs: Math.round(decodeSameNs),
  decodeAndCheckSameNs: Math.round(freshSameNs),
  decodeAndCheckDistinctNs: Math.round(freshManyNs),
  decodeDistinctNs: Math.round(decodeManyNs),
  auditRecords: recorded,
};
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
else {
  console.log(`osl bench (node ${process.version}, ${ROUNDS} rounds × ${READS} reads, 4 KiB file)`);
  console.log(`  direct fs.promises.readFile   ${fmt(directNs)}`);
  console.log(
    `  guarded + audited readFile    ${fmt(guardedNs)}   ratio ${ratio.toFixed(2)}×  (target ≤ 2×)`,
  );
  console.log(`  (fs.readFileSync, for scale)  ${fmt(syncNs)}`);
  console.log(`  capability check alone        ${fmt(checkNs)}   (target ≤ 200 ns)`);
  console.log(`    full check, no memo         ${fmt(fullCheckNs)}`);
  console.log(`    decode + check, same path   ${fmt(freshSameNs)}   (decode alone ${fmt(decodeSameNs)})`);
  console.log(`    decode + check, 1,024 paths ${fmt(freshManyNs)}   (decode alone ${fmt(decodeManyNs)})`);
  console.log(`  audit records written         ${recorded}`);
}
if (sink < 0) console.log(sink);
