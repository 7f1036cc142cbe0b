// What every benchmark here needs: the median of rounds, and the machine the figures came from.

import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A duration in nanoseconds as the tables print it: ns, µs or ms. */
export const formatNs = (ns) =>
  ns >= 1e6
    ? `${(ns / 1e6).toFixed(2)} ms`
    : ns >= 1e3
      ? `${(ns / 1e3).toFixed(2)} µs`
      : `${ns.toFixed(1)} ns`;

export function machineInfo() {
  return {
    cpu: cpus()[0]?.model,
    cores: availableParallelism(),
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

export const describeMachine = (m) => `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}`;

/**
 * Re-runs the benchmark at `url` with `--expose-gc` unless it has it (memory figures need a
 * forced GC), and exits with that run's status; returns only in the run that has it.
 */
export function withExposedGc(url) {
  if (typeof globalThis.gc === 'function') return;
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}
