/**
 * `airssys-wasm inspect <component>`: the component's identity (sha256), world, limits, and
 * its imports and exports with their WIT types.
 */

import type { Command } from 'commander';
import { type EngineFlags, engineFrom, withEngineOptions } from '../engine-options.js';
import { EXIT_OK, printJson, reportError } from '../output.js';

export function registerInspect(program: Command): void {
  withEngineOptions(
    program
      .command('inspect')
      .description('show the world, imports, exports, limits and hash of a component')
      .argument('<component>', 'component folder or its Component.toml')
      .option('--json', 'print one JSON document'),
  ).action(async (path: string, flags: EngineFlags & { json?: boolean }) => {
    try {
      const d = (await engineFrom(flags).load(path)).describe();
      if (flags.json) {
        printJson(d);
      } else {
        const lines = [
          `${d.name}@${d.version}`,
          `  sha256   ${d.sha256}`,
          `  world    ${d.world ?? '(not declared)'}`,
          `  limits   memory ${d.limits.memoryBytes} B, fuel ${d.limits.fuel}/call, timeout ${d.limits.timeoutMs} ms, mailbox ${d.limits.mailbox}`,
          `  modules  ${d.coreModules} core module(s)`,
          '  imports',
          ...(d.imports.length === 0 ? ['    (none)'] : []),
          ...d.imports.flatMap((i) =>
            i.funcs === undefined
              ? [`    ${i.name}: ${i.type ?? i.kind}`]
              : [`    ${i.name}`, ...Object.entries(i.funcs).map(([n, t]) => `      ${n}: ${t}`)],
          ),
          '  exports',
          ...d.exports.map((e) => `    ${e.name}: ${e.type}`),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}
