/**
 * airssys-wasm: pluggable systems from WebAssembly components.
 *
 * @example
 * import { Engine } from 'airssys-wasm';
 * const component = await new Engine().load('./my-component');
 * const instance = component.instantiate();
 * console.log(instance.exports.add(1, 2));
 */

import './shared/require-supported-node.js';

export * from './host/index.js';
export { AirssysError, type Blame, ERROR_CODES, type ErrorCode, isAirssysError } from './shared/errors.js';
export * from './wasm/index.js';
