/**
 * Linear memories of disposed instances, kept for the next instances of the same component, as
 * wasmtime's pooling allocator keeps memory slots. A new instance gets a memory that is, to the
 * guest, indistinguishable from a fresh one: the declared initial size (a memory the previous
 * instance grew is not kept) and every byte zero before the data segments are applied.
 *
 * Why: the first write to a page of a fresh memory is a page fault, and a wizer-snapshotted
 * guest (StarlingMonkey) writes ~5 MiB of data segments across ~10 MiB at instantiation: on a
 * 2-core VM ~20 ms per instance, against ~0.5 ms to zero and refill pages already mapped.
 *
 * Note: a memory is only given back by `ComponentInstance.dispose()`, after which the old
 * instance refuses every call, so no guest code of it can see the memory again.
 */

import { WASM_PAGE } from './compile.js';
import type { MemoryShape } from './instrument.js';

/** Spare memories kept per core module: enough for an instance pool to refill without faults. */
const SPARES_PER_MODULE = 4;

export class MemoryPool {
  private readonly spares = new Map<number, WebAssembly.Memory[]>();

  /** A memory for core module `module`: a zeroed spare, or a new one. */
  take(module: number, shape: MemoryShape): WebAssembly.Memory {
    const spare = this.spares.get(module)?.pop();
    if (spare === undefined) return new WebAssembly.Memory(shape);
    new Uint8Array(spare.buffer).fill(0);
    return spare;
  }

  /** Keeps `memory` for a later `take`, unless it grew past its initial size or enough are kept. */
  give(module: number, shape: MemoryShape, memory: WebAssembly.Memory): void {
    if (memory.buffer.byteLength !== shape.initial * WASM_PAGE) return;
    let list = this.spares.get(module);
    if (list === undefined) {
      list = [];
      this.spares.set(module, list);
    }
    if (list.length < SPARES_PER_MODULE && !list.includes(memory)) list.push(memory);
  }
}
