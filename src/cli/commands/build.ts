/**
 * `airssys-wasm build [dir]`: build `component.wasm` from a JavaScript or TypeScript component
 * folder, offline — bundle (esbuild), componentize (componentize-js), validate (the host's own
 * pipeline). One progress line per phase on stderr; `--json` prints the result as one document.
 */

import { relative } from 'node:path';
import type { Command } from 'commander';
import { BUILD_PHASES, type BuildResult, buildComponent } from '../../authoring/index.js';
import { defaultCacheDir, type EngineFlags, withEngineOptions } from '../engine-options.js';
import { EXIT_OK, printJson, reportError } from '../output.js';

interface BuildFlags extends EngineFlags {
  entry?: string;
  json?: boolean;
}

export function registerBuild(program: Command): void {
  withEngineOptions(
    program
      .command('build')
      .description('build component.wasm from a JavaScript/TypeScript component folder (see `new`)')
      .argument('[dir]', 'component folder (with Component.toml)', '.')
      .option('--entry <file>', 'source to build (default: src/component.ts or src/component.js)')
      .option('--json', 'print one JSON document: {ok, wasm, bytes, sha256, engine, memory, phases, ms}'),
  ).action(async (dir: string, flags: BuildFlags) => {
    try {
      const result = await buildComponent(dir, {
        entry: flags.entry,
        cacheDir: flags.cache ? (flags.cacheDir ?? defaultCacheDir()) : false,
        log: flags.verbose ? (line) => process.stderr.write(`[airssys] ${line}\n`) : undefined,
        onPhase: (phase, index, what) =>
          process.stderr.write(`[${index + 1}/${BUILD_PHASES.length}] ${phase}: ${what}\n`),
      });
      if (flags.json) printJson({ ok: true, ...result });
      else process.stdout.write(summary(result));
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function summary(r: BuildResult): string {
  const lines = [
    `built ${relative(process.cwd(), r.wasm) || r.wasm}: ${r.name}@${r.version}, ${formatSize(r.bytes)}, sha256 ${r.sha256.slice(0, 12)}… in ${(r.ms / 1000).toFixed(1)} s (${r.phases.map((p) => `${p.phase} ${(p.ms / 1000).toFixed(1)} s`).join(', ')})`,
    `  ${r.engine.name} ${r.engine.version}; an instance starts with ${formatSize(r.memory.instanceBytes)} of its ${formatSize(r.memory.declaredBytes)} memory`,
  ];
  if (r.memory.declaredBytes > r.memory.hostDefaultMaxBytes) {
    lines.push(
      `  note: [resources] memory ${formatSize(r.memory.declaredBytes)} is above a host's default ceiling (${formatSize(r.memory.hostDefaultMaxBytes)}); the host that runs it must allow it: new Engine({ policy: { maxMemoryBytes } })`,
    );
  }
  return `${lines.join('\n')}\n`;
}
