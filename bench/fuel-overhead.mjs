// Fuel-metering overhead: loop-heavy kernels, raw vs instrumented (largest i32 budget per call).
// Usage: npx tsc -p tsconfig.build.json && node bench/fuel-overhead.mjs
//    or: npx tsc -p tsconfig.build.json --outDir /tmp/dist && AIRSSYS_DIST=/tmp/dist node bench/fuel-overhead.mjs
// Prints per-kernel medians of 7 runs (after warm-up) and the median ratio; target <= 1.15x.
import { pathToFileURL } from 'node:url';
import wabtInit from 'wabt';

const dist = process.env.AIRSSYS_DIST
  ? pathToFileURL(`${process.env.AIRSSYS_DIST.replace(/\/$/, '')}/`).href
  : new URL('../dist/', import.meta.url).href;
const { FUEL_COUNTER_EXPORT, FUEL_EXPORT_PREFIX, INSTRUMENT_MODULE, instrument } = await import(
  `${dist}wasm/engine/instrument.js`
);

const KERNELS = `(module
  (memory 160)
  ;; Sieve of Eratosthenes over n bytes; returns the number of primes below n.
  (func (export "sieve") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $count i32)
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done (loop $outer
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eqz (i32.load8_u (local.get $i)))
        (then
          (local.set $count (i32.add (local.get $count) (i32.const 1)))
          (local.set $j (i32.mul (local.get $i) (local.get $i)))
          (block $inner_done (loop $inner
            (br_if $inner_done (i32.ge_u (local.get $j) (local.get $n)))
            (i32.store8 (local.get $j) (i32.const 1))
            (local.set $j (i32.add (local.get $j) (local.get $i)))
            (br $inner)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $outer)))
    (local.get $count))
  ;; Nested loops mixing integers: sum over i < n, j < n of (i * j) ^ (i + j).
  (func (export "nested") (param $n i32) (result i64) (local $i i32) (local $j i32) (local $acc i64)
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $acc (i64.add (local.get $acc)
          (i64.extend_i32_u (i32.xor (i32.mul (local.get $i) (local.get $j)) (i32.add (local.get $i) (local.get $j))))))
        (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))
      (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $acc))
  ;; Recursive fib: call-heavy (entry check, write-back and reload around every call).
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2)) (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2))))))))`;

const wabt = await wabtInit();
const mod = wabt.parseWat('kernels.wat', KERNELS, { bulk_memory: true });
const raw = new Uint8Array(mod.toBinary({}).buffer);
const { bytes } = instrument(raw, { memoryMaxPages: 256 });

// The entry wrappers take an i32 budget; should a kernel exhaust it, out-of-fuel grants (returns)
// another slice of the same size, as the engine's meter does (it rarely or never happens here).
const BUDGET = 2 ** 31 - 1;
let granted = 0n;
let refills = 0;
const plumbing = {
  'out-of-fuel': () => {
    refills++;
    granted += BigInt(BUDGET);
    return BigInt(BUDGET);
  },
  'grow-failed': () => {},
};
const a = new WebAssembly.Instance(new WebAssembly.Module(raw), {}).exports;
const b = new WebAssembly.Instance(new WebAssembly.Module(bytes), { [INSTRUMENT_MODULE]: plumbing }).exports;
const fuel = b[FUEL_COUNTER_EXPORT];

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};

const cases = [
  ['sieve', [8_000_000]],
  ['nested', [6000]],
  ['fib', [30]],
];
const ratios = [];
for (const [name, args] of cases) {
  const wrapped = b[FUEL_EXPORT_PREFIX + name];
  const expected = a[name](...args);
  if (wrapped(BUDGET, ...args) !== expected) throw new Error(`${name}: results differ`);
  // Warm up both (tier-up to the optimizing compiler).
  for (let i = 0; i < 5; i++) {
    a[name](...args);
    wrapped(BUDGET, ...args);
  }
  const rawTimes = [];
  const instTimes = [];
  const runRatios = [];
  for (let run = 0; run < 7; run++) {
    const r = time(() => a[name](...args));
    const m = time(() => wrapped(BUDGET, ...args));
    rawTimes.push(r);
    instTimes.push(m);
    runRatios.push(m / r);
  }
  granted = 0n;
  refills = 0;
  wrapped(BUDGET, ...args);
  const used = BigInt(BUDGET) + granted - fuel.value;
  const ratio = median(runRatios);
  ratios.push(ratio);
  console.log(
    `${name.padEnd(7)} raw ${median(rawTimes).toFixed(2)} ms  instrumented ${median(instTimes).toFixed(2)} ms  ` +
      `ratio ${ratio.toFixed(3)}x  fuel ${used}${refills ? ` (${refills} refills)` : ''}`,
  );
}
console.log(`median ratio over kernels: ${median(ratios).toFixed(3)}x (target <= 1.15x)`);
