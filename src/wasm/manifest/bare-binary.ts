/**
 * The manifest of a component run without one (`airssys-wasm run hello.wasm`): the host's
 * default limits and nothing granted, so the only authority the guest gets is what the embedder
 * hands it explicitly (for `run`: the `--dir` and `--env` flags).
 */

import path from 'node:path';
import { DEFAULT_HOST_POLICY, type HostPolicy } from '../engine/policy.js';
import { parseManifest } from './parse.js';
import type { Manifest } from './schema.js';

/** A manifest name (`[a-z][a-z0-9-]*`, ≤ 64) made from a file name: `Hello_World.wasm` → `hello-world`. */
export function nameFromFile(file: string): string {
  const stem = path
    .basename(file)
    .replace(/\.wasm$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return stem === '' ? 'component' : stem;
}

/**
 * The manifest for the binary at `wasmFile`: version 0.0.0, the policy's largest memory (a
 * program built by another toolchain declares none), default fuel and timeout, no permissions.
 */
export function manifestForBinary(wasmFile: string, policy: HostPolicy = DEFAULT_HOST_POLICY): Manifest {
  const file = path.resolve(wasmFile);
  const text = [
    '[component]',
    `name = ${JSON.stringify(nameFromFile(file))}`,
    'version = "0.0.0"',
    `wasm = ${JSON.stringify(path.basename(file))}`,
    '[resources]',
    `memory = ${policy.maxMemoryBytes}`,
    '',
  ].join('\n');
  return parseManifest(text, { policy, baseDir: path.dirname(file) });
}
