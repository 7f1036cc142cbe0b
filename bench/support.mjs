// What every benchmark here needs: the median of rounds, and the machine the figures came from.

import { availableParallelism, cpus, totalmem } from 'node:os';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function machineInfo() {
  return {
    cpu: cpus()[0]?.model,
    cores: availableParallelism(),
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

export const describeMachine = (m) => `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}`;
