/**
 * Composed components, as `wasm-tools compose` and wac write them: nested components
 * instantiated with each other's exports, where one component's lifted function is lowered
 * again for another's core instance (adapter fusion), each with its own memory.
 */

import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import { decodeComponent } from '../../src/wasm/component/decode.js';
import { Engine } from '../../src/wasm/index.js';
import { bumpRealloc } from '../support/bump-realloc.js';
import { manifestWith } from '../support/manifest.js';

const BUMP_REALLOC = (start: number) => bumpRealloc(start, 'realloc');

/** `greet(name) -> "hello, " + name` in its own memory, and a counter, as core module $m. */
const GREETER_MODULE = `
  (core module $m
    (memory (export "memory") 1)
    ${BUMP_REALLOC(1024)}
    (global $count (mut i32) (i32.const 0))
    (data (i32.const 16) "hello, ")
    (func (export "greet") (param $p i32) (param $n i32) (result i32)
      (local $out i32)
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.add (local.get $n) (i32.const 7))))
      (memory.copy (local.get $out) (i32.const 16) (i32.const 7))
      (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $p) (local.get $n))
      (i32.store (i32.const 0) (local.get $out))
      (i32.store (i32.const 4) (i32.add (local.get $n) (i32.const 7)))
      (i32.const 0))
    (func (export "next") (result i32)
      (global.set $count (i32.add (global.get $count) (i32.const 1)))
      (global.get $count)))`;

/** `run(name) -> greet(name)`, logging the greeting, with the memory in a separate $libc module. */
const CALLER_MODULES = `
  (core module $libc
    (memory (export "memory") 1)
    ${BUMP_REALLOC(2048)})
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $b-mem))
  (alias core export $libc "realloc" (core func $b-realloc))
  (core func $greet-low (canon lower (func $greet) (memory $b-mem) (realloc $b-realloc)))
  (core func $log-low (canon lower (func $log) (memory $b-mem)))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "host" "greet" (func $greet (param i32 i32 i32)))
    (import "host" "log" (func $log (param i32 i32)))
    (func (export "run") (param $p i32) (param $n i32) (result i32)
      (call $greet (local.get $p) (local.get $n) (i32.const 64))
      (call $log (i32.load (i32.const 64)) (i32.load (i32.const 68)))
      (i32.const 64)))
  (core instance $host (export "greet" (func $greet-low)) (export "log" (func $log-low)))
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "host" (instance $host))))
  (alias core export $main "run" (core func $run-core))
  (func $run (param "name" string) (result string)
    (canon lift (core func $run-core) (memory $b-mem) (realloc $b-realloc)))`;

const GREETER_LIFTS = `
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $a-mem))
  (alias core export $i "realloc" (core func $a-realloc))
  (alias core export $i "greet" (core func $greet-core))
  (alias core export $i "next" (core func $next-core))
  (func $greet (param "name" string) (result string)
    (canon lift (core func $greet-core) (memory $a-mem) (realloc $a-realloc)))
  (func $next (result u32) (canon lift (core func $next-core)))`;

/** The shape wac writes: A's export feeds B's import; B's export is the component's. */
const COMPOSED = `(component
  (import "log" (func $log (param "msg" string)))
  (component $A
    ${GREETER_MODULE}
    ${GREETER_LIFTS}
    (export "greet" (func $greet))
    (export "next" (func $next)))
  (component $B
    (import "greet" (func $greet (param "name" string) (result string)))
    (import "log" (func $log (param "msg" string)))
    ${CALLER_MODULES}
    (export "run" (func $run)))
  (instance $a (instantiate $A))
  (instance $a2 (instantiate $A))
  (instance $b (instantiate $B (with "greet" (func $a "greet")) (with "log" (func $log))))
  (export "run" (func $b "run"))
  (export "next" (func $a "next"))
  (export "next-2" (func $a2 "next")))`;

/** Both halves in one component: a function lifted and lowered again (adapter fusion). */
const FLAT = `(component
  (import "log" (func $log (param "msg" string)))
  ${GREETER_MODULE}
  ${GREETER_LIFTS}
  ${CALLER_MODULES}
  (export "run" (func $run)))`;

/**
 * A defines resource r; B makes one, borrows it to A (its implementer: A gets the rep) and to C
 * (which is not: C gets a borrow handle, calls A with it and drops it). run(v) = 10v + (10v + 1).
 */
const RESOURCES = `(component
  (component $A
    (type $r (resource (rep i32)))
    (core func $new (canon resource.new $r))
    (core instance $canon (export "new" (func $new)))
    (core module $m
      (import "canon" "new" (func $new (param i32) (result i32)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
      (func (export "peek") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 10))))
    (core instance $i (instantiate $m (with "canon" (instance $canon))))
    (alias core export $i "make" (core func $make-core))
    (alias core export $i "peek" (core func $peek-core))
    (export $r-out "r" (type $r))
    (func $make (param "v" u32) (result (own $r-out)) (canon lift (core func $make-core)))
    (func $peek (param "self" (borrow $r-out)) (result u32) (canon lift (core func $peek-core)))
    (export "[constructor]r" (func $make))
    (export "[method]r.peek" (func $peek)))
  (component $C
    (import "r" (type $r (sub resource)))
    (import "[method]r.peek" (func $peek (param "self" (borrow $r)) (result u32)))
    (core func $peek-low (canon lower (func $peek)))
    (core func $drop (canon resource.drop $r))
    (core instance $imports (export "peek" (func $peek-low)) (export "drop" (func $drop)))
    (core module $m
      (import "a" "peek" (func $peek (param i32) (result i32)))
      (import "a" "drop" (func $drop (param i32)))
      (func (export "count") (param $h i32) (result i32) (local $n i32)
        (local.set $n (call $peek (local.get $h)))
        (call $drop (local.get $h))
        (i32.add (local.get $n) (i32.const 1))))
    (core instance $i (instantiate $m (with "a" (instance $imports))))
    (alias core export $i "count" (core func $count-core))
    (func $count (param "x" (borrow $r)) (result u32) (canon lift (core func $count-core)))
    (export "count" (func $count)))
  (component $B
    (import "r" (type $r (sub resource)))
    (import "[constructor]r" (func $make (param "v" u32) (result (own $r))))
    (import "[method]r.peek" (func $peek (param "self" (borrow $r)) (result u32)))
    (import "count" (func $count (param "x" (borrow $r)) (result u32)))
    (core func $make-low (canon lower (func $make)))
    (core func $peek-low (canon lower (func $peek)))
    (core func $count-low (canon lower (func $count)))
    (core func $drop (canon resource.drop $r))
    (core instance $imports (export "make" (func $make-low)) (export "peek" (func $peek-low))
      (export "count" (func $count-low)) (export "drop" (func $drop)))
    (core module $m
      (import "a" "make" (func $make (param i32) (result i32)))
      (import "a" "peek" (func $peek (param i32) (result i32)))
      (import "a" "count" (func $count (param i32) (result i32)))
      (import "a" "drop" (func $drop (param i32)))
      (func (export "run") (param $v i32) (result i32) (local $h i32) (local $sum i32)
        (local.set $h (call $make (local.get $v)))
        (local.set $sum (i32.add (call $peek (local.get $h)) (call $count (local.get $h))))
        (call $drop (local.get $h))
        (local.get $sum)))
    (core instance $i (instantiate $m (with "a" (instance $imports))))
    (alias core export $i "run" (core func $run-core))
    (func $run (param "v" u32) (result u32) (canon lift (core func $run-core)))
    (export "run" (func $run)))
  (instance $a (instantiate $A))
  (alias export $a "r" (type $r))
  (instance $c (instantiate $C (with "r" (type $r)) (with "[method]r.peek" (func $a "[method]r.peek"))))
  (instance $b (instantiate $B (with "r" (type $r)) (with "[constructor]r" (func $a "[constructor]r"))
    (with "[method]r.peek" (func $a "[method]r.peek")) (with "count" (func $c "count"))))
  (export "run" (func $b "run")))`;

const engine = new Engine({ cacheDir: false });

async function instantiate(wat: string) {
  const bytes = await parse(wat);
  const logged: string[] = [];
  const instance = engine
    .compile(bytes, manifestWith('composed'))
    .instantiate({ log: (message: string) => logged.push(message) });
  return { instance, logged, bytes };
}

describe('composed components', () => {
  it('runs nested components wired export-to-import, each core instance with its own memory', async () => {
    const { instance, logged } = await instantiate(COMPOSED);
    expect(instance.exports.run('Zoë')).toBe('hello, Zoë');
    expect(instance.exports.run('😀'.repeat(3))).toBe('hello, 😀😀😀');
    expect(logged).toEqual(['hello, Zoë', 'hello, 😀😀😀']);
    expect(instance.trapped).toBe(false);
  });

  it('instantiates a nested component twice, with separate state', async () => {
    const { instance } = await instantiate(COMPOSED);
    expect([instance.exports.next(), instance.exports.next(), instance.exports['next-2']()]).toEqual([
      1, 2, 1,
    ]);
  });

  it('runs a function lifted and lowered again inside one component (adapter fusion)', async () => {
    const { instance, logged, bytes } = await instantiate(FLAT);
    expect(decodeComponent(bytes).fused).toHaveLength(1);
    expect(instance.exports.run('wasm')).toBe('hello, wasm');
    expect(logged).toEqual(['hello, wasm']);
  });

  it('meters the fused callee on the caller’s fuel, and a trap in it poisons the instance', async () => {
    const trapping = COMPOSED.replace(
      '(local $out i32)',
      '(local $out i32) (if (i32.eqz (local.get $n)) (then unreachable))',
    );
    const { instance } = await instantiate(trapping);
    const outcome = instance.invoke('run', ['x']);
    expect(outcome).toMatchObject({ ok: true, value: 'hello, x' });
    expect(outcome.fuel).toBeGreaterThan(0);
    expect(instance.invoke('run', ['y']).fuel).toBe(outcome.fuel);
    expect(() => instance.exports.run('')).toThrowError(expect.objectContaining({ code: 'trap' }));
    expect(instance.trapped).toBe(true);
  });

  it('passes a resource between nested components: the implementer gets the rep, others a handle', async () => {
    const { instance } = await instantiate(RESOURCES);
    expect(instance.exports.run(7)).toBe(141);
    expect(instance.exports.run(3)).toBe(61);
    expect(instance.trapped).toBe(false);
  });

  it('traps when a nested component returns without dropping a borrow handle it was lent', async () => {
    const leaky = RESOURCES.replace(
      '(call $drop (local.get $h))\n        (i32.add (local.get $n)',
      '(i32.add (local.get $n)',
    );
    expect(leaky).not.toBe(RESOURCES);
    const { instance } = await instantiate(leaky);
    expect(() => instance.exports.run(7)).toThrowError(
      expect.objectContaining({
        code: 'trap',
        message: expect.stringMatching(/count: borrow handles .* not dropped/),
      }),
    );
  });
});
