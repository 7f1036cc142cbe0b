/**
 * `airssys-wasm validate <component>`: run the whole compile pipeline (manifest, binary caps,
 * decoding, instrumentation, compilation) without running any guest code, and say what is wrong.
 */

import type { Command } from 'commander';
import { type EngineFlags, engineFrom, withEngineOptions } from '../engine-options.js';
import { EXIT_OK, printJson, reportError } from '../output.js';

export function registerValidate(program: Command): void {
  withEngineOptions(
    program
      .command('validate')
      .description('check a component and its Component.toml without running it')
      .argument('<component>', 'component folder or its Component.toml')
      .option('--json', 'print one JSON document'),
  ).action(async (path: string, flags: EngineFlags & { json?: boolean }) => {
    try {
      const component = await engineFrom(flags).load(path);
      const summary = {
        ok: true,
        name: component.name,
        version: component.manifest.component.version,
        sha256: component.compiled.hash,
      };
      if (flags.json) printJson(summary);
      else process.stdout.write(`ok: ${summary.name}@${summary.version} (sha256 ${summary.sha256})\n`);
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}
