/**
 * `wasi:random/random`, `insecure` and `insecure-seed`, all drawn from the embedder's random
 * source (`crypto.randomFillSync` by default, so even the "insecure" interfaces are strong).
 *
 * Threat model: `len` is a u64 chosen by the guest; answering `get-random-bytes(2^40)` would
 * allocate a terabyte in the host. The interface has no error case, so a request above
 * `maxRandomBytes` (1 MiB by default) traps, and is reported through `onDenied`.
 */

import type { WasiContext } from './options.js';
import { guestTrap, type Interface, length } from './values.js';

export function randomInterfaces(ctx: WasiContext): Record<string, Interface> {
  const max = ctx.limits.maxRandomBytes;
  const bytes = (fn: string) => (len: bigint) => {
    const n = length(len);
    if (n > max) {
      const reason = `asked for ${len} bytes; at most ${max} per call`;
      ctx.denied(`wasi.random.${fn}`, `${len} bytes`, reason);
      throw guestTrap(`wasi:random#${fn}`, reason, { limit: max });
    }
    const buffer = new Uint8Array(n);
    ctx.random(buffer);
    return buffer;
  };
  const u64 = (): bigint => {
    const buffer = new Uint8Array(8);
    ctx.random(buffer);
    return new DataView(buffer.buffer).getBigUint64(0, true);
  };
  return {
    'wasi:random/random': { 'get-random-bytes': bytes('get-random-bytes'), 'get-random-u64': u64 },
    'wasi:random/insecure': {
      'get-insecure-random-bytes': bytes('get-insecure-random-bytes'),
      'get-insecure-random-u64': u64,
    },
    'wasi:random/insecure-seed': { 'insecure-seed': () => [u64(), u64()] },
  };
}
