// docs/guides/embedding.example.ts as an application uses it: type-checked against the package's
// published types (`airssys-wasm` resolves to this package's dist/ through its `exports`),
// compiled, and run from a folder that depends on the package; it must print what the guide shows.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';
import { blocks, read, unmatched } from './markdown.js';

const GUIDE = 'docs/guides/embedding.md';
const EXAMPLE = 'docs/guides/embedding.example.ts';

function marked(marker: string): string {
  const block = blocks(read(GUIDE)).find((b) => b.marker === marker);
  if (block === undefined) throw new Error(`${GUIDE}: no block marked <!-- ${marker} -->`);
  return block.body;
}

describe('docs — embedding', () => {
  const source = readFileSync(join(ROOT, EXAMPLE), 'utf8');

  it('the guide shows the example file as it is', () => {
    expect(marked('include: embedding.example.ts')).toBe(source.trimEnd());
  });

  it('the example type-checks against the package exports', () => {
    const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile).config;
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
    const program = ts.createProgram([join(ROOT, EXAMPLE)], { ...options, noEmit: true });
    const errors = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(errors).toEqual([]);
  });

  it('the example runs and prints what the guide shows', () => {
    const app = tempDir('docs-embedding');
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(ROOT, join(app, 'node_modules', 'airssys-wasm'));
    symlinkSync(join(ROOT, 'fixtures'), join(app, 'fixtures'));
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(app, 'embedding.mjs'), js);
    const run = spawnSync(process.execPath, ['embedding.mjs'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const expected = marked('output: embedding.example.ts').split('\n');
    expect(unmatched(expected, run.stdout), run.stdout).toEqual([]);
  }, 90_000);
});
