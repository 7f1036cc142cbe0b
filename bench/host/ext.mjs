// A component reading a file through `airssys:ext-filesystem` (issue #5): the whole path —
// host.request → the C `ext-gateway` fixture → its osl sandbox (audit in SQLite, path guard,
// quota, Node port) → the reply message → the component forwards it → the host — against the
// same 4 KiB read made directly with `fs.promises.readFile`, through the osl sandbox alone, and
// a request/reply to the `echo` component (the messaging floor). Sequential requests; medians
// of ROUNDS rounds.
//
//   npm run build && npm run fixtures && node bench/host/ext.mjs [--json]

import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, machineInfo, median } from '../support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const dist = resolve(here, '../../dist');
const { ComponentHost } = await import(pathToFileURL(join(dist, 'host', 'index.js')).href);
const { Engine } = await import(pathToFileURL(join(dist, 'index.js')).href);
const osl = await import(pathToFileURL(join(dist, 'osl', 'index.js')).href);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const N = Number(process.env.BENCH_READS ?? 2000);
const asJson = process.argv.includes('--json');

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'airssys-ext-bench-')));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'in'));
mkdirSync(join(dir, 'gw'));
mkdirSync(join(dir, 'data'));
const file = join(dir, 'in', 'payload.bin');
writeFileSync(file, Buffer.alloc(4096, 7));
const fixture = (name) => join(root, 'fixtures', 'build', name);
copyFileSync(join(fixture('ext-gateway'), 'component.wasm'), join(dir, 'gw', 'component.wasm'));
writeFileSync(
  join(dir, 'gw', 'Component.toml'),
  [
    '[component]',
    'name = "gw"',
    'version = "0.1.0"',
    'wasm = "component.wasm"',
    '[resources]',
    'memory = "1MiB"',
    '[permissions]',
    `filesystem = { read = ["${dir}/in/**"] }`,
  ].join('\n'),
);

const engine = new Engine();
const host = await ComponentHost.create({ threads: 0, dataDir: join(dir, 'data') });
await host.start(await engine.load(join(dir, 'gw')));
await host.start(await engine.load(fixture('echo')));
const sandbox = osl.createSandbox({
  component: 'bench',
  version: '1',
  grants: { filesystem: { read: [`${dir}/in/**`] } },
  audit: new osl.SqliteAuditLog({ path: join(dir, 'osl-audit.db') }),
});

const command = `read ${file}`;
const cases = {
  direct: () => readFile(file),
  sandbox: () => sandbox.fs.readFile(file),
  echo: () => host.request('echo', 'x'),
  component: () => host.request('gw', command),
};
const reply = await cases.component();
if (reply.payload.byteLength !== 4096) throw new Error(`gateway answered ${reply.payload.byteLength} bytes`);

const per = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const fn of Object.values(cases)) for (let i = 0; i < 300; i++) await fn();
for (let r = 0; r < ROUNDS; r++) {
  // Alternate the cases within a round so drift on a noisy machine hits them alike.
  for (const [name, fn] of Object.entries(cases)) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn();
    per[name].push(Number(process.hrtime.bigint() - t) / N / 1000);
  }
}
await host.close();

const us = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, median(v)]));
const result = {
  machine: describeMachine(machineInfo()),
  rounds: ROUNDS,
  readsPerRound: N,
  medianUs: us,
  componentVsDirect: us.component / us.direct,
  componentVsSandbox: us.component / us.sandbox,
  componentMinusEchoUs: us.component - us.echo,
};
if (asJson) console.log(JSON.stringify(result));
else {
  console.log(`machine: ${result.machine}; ${ROUNDS} rounds × ${N} sequential 4 KiB reads`);
  for (const [k, v] of Object.entries(us)) console.log(`  ${k.padEnd(10)} ${v.toFixed(1)} µs`);
  console.log(
    `  component / direct ${result.componentVsDirect.toFixed(2)}×, component / sandbox ${result.componentVsSandbox.toFixed(2)}×, component − echo ${result.componentMinusEchoUs.toFixed(1)} µs`,
  );
}
