/** Paths of the fixture components built by `npm run fixtures` (scripts/build-fixtures.mjs). */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function fixture(name: string): string {
  const dir = join(ROOT, 'fixtures', 'build', name);
  if (!existsSync(join(dir, 'Component.toml'))) {
    throw new Error(`fixture "${name}" is not built: run \`npm run fixtures\` first`);
  }
  return dir;
}
