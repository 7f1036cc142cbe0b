/** Options every command that loads components shares, and the engine they configure. */

import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Engine } from '../wasm/engine/engine.js';
import { parseSize } from '../wasm/manifest/units.js';

export interface EngineFlags {
  cache: boolean;
  cacheDir?: string;
  verbose?: boolean;
  maxMemory?: string;
}

export function defaultCacheDir(): string {
  return (
    process.env.AIRSSYS_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'airssys-wasm')
  );
}

export function withEngineOptions(command: Command): Command {
  return command
    .option('--cache-dir <dir>', 'compiled-component cache folder (env AIRSSYS_CACHE_DIR)')
    .option('--no-cache', 'compile from scratch and do not write the cache')
    .option('-v, --verbose', 'print each pipeline step (cache hit/miss, compile time) on stderr')
    .option(
      '--max-memory <size>',
      'largest [resources] memory a manifest may declare (default 4MiB; JS components need 128MiB)',
    );
}

/** The host policy a `--max-memory` flag asks for (undefined: the default policy). */
export function policyFrom(maxMemory: string | undefined): { maxMemoryBytes: number } | undefined {
  return maxMemory === undefined ? undefined : { maxMemoryBytes: parseSize(maxMemory) };
}

export function engineFrom(flags: EngineFlags): Engine {
  return new Engine({
    cacheDir: flags.cache ? (flags.cacheDir ?? defaultCacheDir()) : false,
    log: flags.verbose ? (line) => process.stderr.write(`[airssys] ${line}\n`) : undefined,
    policy: policyFrom(flags.maxMemory),
  });
}
