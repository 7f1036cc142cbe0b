/**
 * The one way this WASI layer waits: synchronously, because host functions are called
 * synchronously from WebAssembly (no JSPI here). `Atomics.wait` on a private cell that nobody
 * notifies blocks the thread for the given time without spinning; Node allows it on the main
 * thread and in workers. Waiting runs no guest code, so it costs no fuel.
 */

const cell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread until `performance.now()` reaches `until` (ms); returns at once if it has. */
export function sleepUntil(until: number): void {
  for (;;) {
    const left = until - performance.now();
    // Written so that NaN also returns: Atomics.wait would take it as "forever".
    if (!(left > 0)) return;
    // Note: Atomics.wait may wake a little early (its clock is not performance.now's).
    Atomics.wait(cell, 0, 0, left === Number.POSITIVE_INFINITY ? undefined : left);
  }
}
