/** Finding a WASI export of a component whatever 0.2 release it was built against. */

import type { Component } from '../engine/engine.js';

/**
 * The name of the component's export `iface@0.2.x#fn` (any 0.2 release, pre-releases included,
 * as the linker matches imports), or undefined when it has none.
 *
 * @example
 * wasi02Export(component, 'wasi:cli/run', 'run'); // 'wasi:cli/run@0.2.12#run'
 */
export function wasi02Export(component: Component, iface: string, fn: string): string | undefined {
  const prefix = `${iface}@0.2.`;
  const suffix = `#${fn}`;
  return component.plan.exports.find(
    (e) =>
      e.name.startsWith(prefix) &&
      e.name.endsWith(suffix) &&
      /^\d+(?:-[0-9A-Za-z.-]+)?$/.test(e.name.slice(prefix.length, -suffix.length)),
  )?.name;
}
