/**
 * The fuel cost table (same shape as wasmtime's default):
 *
 * - `nop`, `drop`, `block`, `loop`, `else` and `end` cost **0** (they do no work of their own);
 * - every other instruction — including `if`, `br*`, `return`, every call, every SIMD, bulk-memory
 *   and reference instruction — costs **1**;
 * - bulk operations (`memory.copy`, `memory.fill`, `memory.init`, `table.copy`, `table.fill`,
 *   `table.init`) additionally cost `floor(n / 64)` where `n` is the byte (element) count operand,
 *   charged at run time just before the operation executes.
 *
 * Fuel is charged per basic block, up front: a block is a straight-line run ending after a branch,
 * `block`/`loop`/`if`/`else`/`end`, call, `return` or `unreachable`, and it is charged the sum of
 * the costs of its instructions when it is entered. The fuel consumed by a call is therefore the
 * exact, deterministic sum of the costs of the blocks it entered (plus the bulk surcharges).
 * Running out is detected at the next function entry or loop header (as wasmtime does), so a
 * call may overdraw by at most the cost of the straight-line code and bulk operations between two
 * such points.
 */

/** Bulk operations cost 1 extra fuel per `2 ** BULK_COST_SHIFT` bytes or elements. */
export const BULK_COST_SHIFT = 6;

const COSTS = new Uint8Array(256).fill(1);
for (const op of [0x01 /* nop */, 0x1a /* drop */, 0x02 /* block */, 0x03 /* loop */, 0x05, 0x0b]) {
  COSTS[op] = 0;
}

/** Static cost of one instruction, by opcode key (see `readInstruction`). */
export function instructionCost(key: number): number {
  return key < 0x100 ? COSTS[key] : 1;
}
