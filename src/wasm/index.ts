/** The `wasm` layer: loading, validating, instrumenting, compiling and running components. */

import '../shared/require-supported-node.js';

export type { ComponentPlan } from './component/model.js';
export type { FuncType, ValType } from './component/types.js';
export { Component, type ComponentDescription, Engine, type EngineOptions } from './engine/engine.js';
export { ComponentInstance, type InvocationOutcome } from './engine/instance.js';
export { IsolatedInstance, type IsolatedOptions } from './engine/isolated.js';
export type { HostFunction, HostImports } from './engine/link.js';
export { type BinaryCaps, DEFAULT_HOST_POLICY, type HostPolicy, resolvePolicy } from './engine/policy.js';
export { loadManifest, parseManifest } from './manifest/parse.js';
export type { Manifest } from './manifest/schema.js';
export {
  type ByteSink,
  type ByteSource,
  bytesSource,
  createWasi,
  fdSink,
  fdSource,
  type Wasi,
  WasiExit,
  type WasiOptions,
  wasiImports,
} from './wasi/index.js';
export { type CommandOutcome, commandExport, runCommand } from './wasi/run-command.js';
