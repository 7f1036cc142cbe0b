/**
 * `airssys-wasm new <name> --lang js|ts [--dir <path>]`: create a component folder for the world
 * `airssys:core/component@1.0.0` (manifest, source, kit, WIT, a test that runs it in a host).
 * Exit 2 for a bad name or language, or a folder that already exists.
 */

import { relative } from 'node:path';
import type { Command } from 'commander';
import { LANGS, scaffold } from '../../authoring/index.js';
import { checkLang } from '../../authoring/scaffold.js';
import { EXIT_OK, printJson, reportError } from '../output.js';

interface NewFlags {
  lang: string;
  dir?: string;
  json?: boolean;
}

export function registerNew(program: Command): void {
  program
    .command('new')
    .description('create a JavaScript or TypeScript component folder for the world airssys:core/component')
    .argument('<name>', 'component name: lower-case letters, digits and hyphens, e.g. order-router')
    .option('--lang <lang>', `source language: ${LANGS.join(' | ')}`, 'js')
    .option('--dir <path>', 'folder to create (default: ./<name>); it must not exist')
    .option('--json', 'print one JSON document: {ok, name, lang, dir, files}')
    .action(async (name: string, flags: NewFlags) => {
      try {
        checkLang(flags.lang);
        const made = await scaffold({ name, lang: flags.lang, dir: flags.dir });
        if (flags.json) {
          printJson({ ok: true, ...made });
        } else {
          const shown = relative(process.cwd(), made.dir) || '.';
          process.stdout.write(
            [
              `created ${shown}/ (${made.lang === 'ts' ? 'TypeScript' : 'JavaScript'} component "${made.name}")`,
              ...made.files.map((f) => `  ${f}`),
              '',
              'next:',
              `  cd ${shown}`,
              '  npm install              # airssys-wasm, to build and test',
              '  npx airssys-wasm build   # -> component.wasm',
              '  node test.mjs            # runs it in a host and sends it requests',
              '',
            ].join('\n'),
          );
        }
        process.exitCode = EXIT_OK;
      } catch (error) {
        process.exitCode = reportError(error, flags.json ?? false);
      }
    });
}
