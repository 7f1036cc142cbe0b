/**
 * The example components built by `npm run fixtures` (examples/<name>/ -> examples/build/<name>/),
 * and copies of them with an edited `Component.toml` (another port, another version) that keep
 * the manifest's comments, unlike test/support/variant.ts, which writes a manifest from scratch.
 */

import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

export const EXAMPLES_BUILD = join(ROOT, 'examples', 'build');

export function example(name: string): string {
  const dir = join(EXAMPLES_BUILD, name);
  if (!existsSync(join(dir, 'Component.toml'))) {
    throw new Error(`example "${name}" is not built: run \`npm run fixtures\` first`);
  }
  return dir;
}

/** A temporary copy of a built example whose manifest text went through `edit`. */
export function editedExample(name: string, edit: (manifest: string) => string): string {
  const from = example(name);
  const dir = tempDir(`example-${name}`);
  copyFileSync(join(from, 'component.wasm'), join(dir, 'component.wasm'));
  const manifest = readFileSync(join(from, 'Component.toml'), 'utf8');
  const edited = edit(manifest);
  if (edited === manifest) throw new Error(`editedExample(${name}): the edit changed nothing`);
  writeFileSync(join(dir, 'Component.toml'), edited);
  return dir;
}

export const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
