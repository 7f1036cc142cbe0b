/**
 * Builds WASI components from C inside tests, the way the ecosystem does: clang + wasi-libc
 * (Debian's clang, lld and wasi-libc, installed by .ci/install-system-deps.sh), then jco's
 * preview1 adapter (`command` for a `main`, exporting wasi:cli/run; `reactor` for a library).
 * Builds are cached by the hash of source, flags and adapter, so a suite pays for each once.
 */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';
import { ROOT } from './fixtures.js';

const CACHE = join(tmpdir(), 'airssys-test-c-components');

export type AdapterKind = 'command' | 'reactor';

function adapter(kind: AdapterKind): Buffer {
  return readFileSync(
    join(ROOT, 'node_modules', '@bytecodealliance', 'jco', 'lib', `wasi_snapshot_preview1.${kind}.wasm`),
  );
}

/** The component for `source` (C); returns the path of its .wasm file. */
export async function cComponent(
  source: string,
  options: { kind?: AdapterKind; flags?: readonly string[] } = {},
): Promise<string> {
  const kind = options.kind ?? 'command';
  const flags = options.flags ?? [];
  const adapterBytes = adapter(kind);
  const key = createHash('sha256')
    .update(source)
    .update(`\0${kind}\0${flags.join('\0')}\0`)
    .update(adapterBytes)
    .digest('hex')
    .slice(0, 24);
  const file = join(CACHE, `${key}.wasm`);
  if (existsSync(file)) return file;
  mkdirSync(CACHE, { recursive: true });
  const src = join(CACHE, `${key}.c`);
  const core = join(CACHE, `${key}.core.wasm`);
  writeFileSync(src, source);
  execFileSync(
    'clang',
    [
      '--target=wasm32-wasi',
      '--sysroot=/usr',
      '-O2',
      ...(kind === 'reactor' ? ['-mexec-model=reactor'] : []),
      ...flags,
      '-o',
      core,
      src,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const component = await componentNew(readFileSync(core), [['wasi_snapshot_preview1', adapterBytes]]);
  // Written beside, then renamed: parallel test files never see a half-written component.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, component);
  renameSync(partial, file);
  return file;
}
