/** A WAT bump allocator with realloc-copy semantics, for hand-written components in tests. */

/** `(func $realloc (export NAME) …)` over a heap starting at `start`; it never frees or grows memory. */
export function bumpRealloc(start: number, exportName = 'cabi_realloc'): string {
  return `
  (global $bump (mut i32) (i32.const ${start}))
  (func $realloc (export "${exportName}") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (if (local.get 0) (then (memory.copy (local.get $p) (local.get 0) (local.get 1))))
    (local.get $p))`;
}
