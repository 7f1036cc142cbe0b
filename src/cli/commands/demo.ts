/**
 * `airssys-wasm demo`: the main job until the host daemon exists. It loads the example
 * components built from `fixtures/src` through the real engine (manifest, decode, instrument,
 * compile, cache, instantiate) and calls them: well-behaved calls with their values, fuel and
 * time, then hostile ones — an infinite loop, unbounded recursion, a trap, a memory bomb, a
 * huge-budget loop stopped by the clock, an ungranted import — each contained with its error
 * code while this one process keeps going. Nothing here is simulated.
 */

import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { AirssysError } from '../../shared/errors.js';
import { toJsonValue } from '../../wasm/component/json-values.js';
import type { Engine } from '../../wasm/engine/engine.js';
import { type EngineFlags, engineFrom, withEngineOptions } from '../engine-options.js';
import { EXIT_FAILED, EXIT_OK, printJson } from '../output.js';
import { actorRows, type DemoRow } from './demo-actors.js';

interface DemoCall {
  component: string;
  call: string;
  args: unknown[];
  expect: 'ok' | AirssysError['code'];
  note: string;
  /** Overrides the manifest's budgets for this call (fuel, timeout-ms). */
  budget?: { fuel: number; timeoutMs: number };
}

const CALLS: DemoCall[] = [
  { component: 'basic', call: 'add', args: [40, 2], expect: 'ok', note: 'u32 arithmetic' },
  { component: 'basic', call: 'echo', args: ['hello, components'], expect: 'ok', note: 'string in and out' },
  { component: 'basic', call: 'types#flip', args: [{ x: 1, y: -2 }], expect: 'ok', note: 'record' },
  { component: 'kernel', call: 'sieve', args: [100_000], expect: 'ok', note: 'C, CPU-bound, metered' },
  { component: 'hostile', call: 'work', args: [1000], expect: 'ok', note: 'fuel is linear in work…' },
  { component: 'hostile', call: 'work', args: [2000], expect: 'ok', note: '…and deterministic' },
  { component: 'hostile', call: 'spin', args: [], expect: 'out-of-fuel', note: 'infinite loop' },
  {
    component: 'hostile',
    call: 'spin',
    args: [],
    expect: 'timeout',
    note: 'infinite loop, huge fuel, 200 ms clock',
    budget: { fuel: Number.MAX_SAFE_INTEGER, timeoutMs: 200 },
  },
  { component: 'hostile', call: 'recurse', args: [0], expect: 'stack-overflow', note: 'unbounded recursion' },
  { component: 'hostile', call: 'boom', args: [], expect: 'trap', note: 'unreachable' },
  { component: 'hostile', call: 'grow', args: [1000], expect: 'ok', note: 'memory.grow past the cap → -1' },
  { component: 'hostile', call: 'alloc-bomb', args: [], expect: 'out-of-memory', note: 'grow until refused' },
];

type Row = DemoRow;

export function registerDemo(program: Command): void {
  withEngineOptions(
    program
      .command('demo')
      .description('run the example components through the engine and as actors, hostile ones included')
      .option('--fixtures <dir>', 'folder holding the built example components', 'fixtures/build')
      .option('--json', 'print one JSON document'),
  ).action(async (flags: EngineFlags & { fixtures: string; json?: boolean }) => {
    const engine = engineFrom(flags);
    const rows = await runCalls(engine, resolve(flags.fixtures));
    rows.push(await ungrantedImport(engine, resolve(flags.fixtures)));
    rows.push(...(await actorRows(engine, resolve(flags.fixtures))));
    const ok = rows.every((r) => r.asExpected);
    if (flags.json) printJson({ ok, rows });
    else printTable(rows);
    process.exitCode = ok ? EXIT_OK : EXIT_FAILED;
  });
}

async function runCalls(engine: Engine, dir: string): Promise<Row[]> {
  const rows: Row[] = [];
  const loaded = new Map<string, Awaited<ReturnType<Engine['load']>>>();
  for (const step of CALLS) {
    let component = loaded.get(step.component);
    if (component === undefined) {
      component = await engine.load(join(dir, step.component));
      loaded.set(step.component, component);
    }
    // A fresh instance per call: a trapped instance is never reused.
    const instance = component.instantiate({});
    if (step.budget) instance.setBudget(step.budget.fuel, step.budget.timeoutMs);
    const outcome = instance.invoke(step.call, step.args);
    rows.push({
      component: step.component,
      call: `${step.call}(${step.args.map((a) => JSON.stringify(a)).join(', ')})`,
      outcome: outcome.ok ? `ok ${JSON.stringify(toJsonValue(outcome.value))}` : outcome.error.code,
      fuel: outcome.fuel,
      ms: outcome.ms,
      note: step.note,
      asExpected: outcome.ok ? step.expect === 'ok' : outcome.error.code === step.expect,
    });
  }
  return rows;
}

async function ungrantedImport(engine: Engine, dir: string): Promise<Row> {
  const component = await engine.load(join(dir, 'bad-world'));
  let outcome = 'linked (unexpected)';
  let asExpected = false;
  try {
    component.instantiate({});
  } catch (error) {
    outcome = error instanceof AirssysError ? error.code : String(error);
    asExpected = outcome === 'capability-denied';
  }
  return {
    component: 'bad-world',
    call: 'instantiate',
    outcome,
    fuel: 0,
    ms: 0,
    note: 'imports an ungranted interface',
    asExpected,
  };
}

function printTable(rows: Row[]): void {
  const header = ['component', 'call', 'outcome', 'fuel', 'ms', 'what it shows'];
  const body = rows.map((r) => [
    r.component,
    r.call.length > 34 ? `${r.call.slice(0, 33)}…` : r.call,
    `${r.asExpected ? '✓' : '✗'} ${r.outcome.length > 28 ? `${r.outcome.slice(0, 27)}…` : r.outcome}`,
    String(r.fuel),
    r.ms.toFixed(2),
    r.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  const failed = rows.filter((r) => !r.asExpected).length;
  out.push(
    '',
    `${rows.length} steps, ${failed === 0 ? 'all as expected' : `${failed} NOT as expected`}; failures were contained and this host process is still running (pid ${process.pid}).`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}
