/**
 * Build phase 3, `validate`: the new binary goes through the same pipeline the host uses
 * (manifest limits, decoding, fuel instrumentation, compilation), its imports and exports are
 * checked against the world `airssys:core/component`, and one instance is created, which proves
 * that the declared memory holds the JavaScript engine's start-up heap. No guest code is called.
 */

import { AirssysError } from '../shared/errors.js';
import type { Component } from '../wasm/engine/engine.js';
import { Engine } from '../wasm/engine/engine.js';
import type { HostFunction, HostImports } from '../wasm/engine/link.js';
import { DEFAULT_HOST_POLICY } from '../wasm/engine/policy.js';
import type { Manifest } from '../wasm/manifest/schema.js';

const CORE = 'airssys:core/';
const LIFECYCLE = 'airssys:core/component-lifecycle@1.0.0';
const LIFECYCLE_FUNCS = ['init', 'handle-message', 'health', 'shutdown'];

export interface Validation {
  sha256: string;
  coreModules: number;
  /** Linear memory of a fresh instance, in bytes. */
  instanceMemoryBytes: number;
  imports: string[];
}

/** Imports for a validation instance: present, so linking succeeds, and never called. */
function unusedImports(component: Component): HostImports {
  const refuse: HostFunction = () => {
    throw new AirssysError('internal', 'host services are not available while validating a build');
  };
  const imports: HostImports = {};
  for (const imp of component.plan.imports) {
    if (imp.kind === 'func') imports[imp.name] = refuse;
    else if (imp.kind === 'instance')
      imports[imp.name] = Object.fromEntries(Object.keys(imp.funcs).map((f) => [f, refuse]));
  }
  return imports;
}

function checkWorld(component: Component): void {
  const world = component.manifest.component.world ?? '';
  if (!world.startsWith(CORE)) return; // another world: the host checks it when it knows it
  const exported = new Set(component.plan.exports.map((e) => e.name));
  const missing = LIFECYCLE_FUNCS.filter((f) => !exported.has(`${LIFECYCLE}#${f}`));
  if (missing.length > 0) {
    throw new AirssysError(
      'invalid-component',
      `the component does not export ${missing.map((f) => `${LIFECYCLE}#${f}`).join(', ')}, which the world ${world} requires; export \`componentLifecycle\` with init, handleMessage, health and shutdown (defineComponent supplies the optional ones)`,
      { blame: 'guest', details: { phase: 'validate', missing } },
    );
  }
  const foreign = component.plan.imports
    .map((i) => i.name)
    .filter((n) => !n.startsWith(CORE) && !n.startsWith('airssys:ext-'));
  if (foreign.length > 0) {
    throw new AirssysError(
      'invalid-component',
      `the component imports ${foreign.join(', ')}, which a host running the world ${world} does not provide; remove what uses them`,
      { blame: 'guest', details: { phase: 'validate', imports: foreign } },
    );
  }
}

/** Compiles `bytes` under `manifest` and creates one instance. */
export function validate(
  bytes: Uint8Array,
  manifest: Manifest,
  cacheDir: string | false,
  log?: (line: string) => void,
): Validation {
  const maxMemoryBytes = Math.max(DEFAULT_HOST_POLICY.maxMemoryBytes, manifest.resources.memoryBytes);
  const engine = new Engine({ policy: { maxMemoryBytes }, cacheDir, log });
  const component = engine.compile(bytes, manifest);
  checkWorld(component);
  const instance = component.instantiate(unusedImports(component));
  return {
    sha256: component.compiled.hash,
    coreModules: component.compiled.modules.length,
    instanceMemoryBytes: instance.memoryBytes,
    imports: component.plan.imports.map((i) => i.name),
  };
}
