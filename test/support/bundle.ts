/**
 * Builds one of our TypeScript modules into a single ES module for child processes and worker
 * threads, which cannot load TypeScript. better-sqlite3 stays external, imported by absolute URL
 * so the bundle works from a temporary folder.
 */

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** `source` relative to the repository's `src/` (e.g. `osl/kv/sqlite-store.ts`); returns the bundle's file URL. */
export async function bundleModule(source: string, dir: string): Promise<string> {
  const sqlite = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;
  const outfile = join(dir, `${source.replace(/[/.]/g, '-')}.mjs`);
  await build({
    entryPoints: [new URL(`../../src/${source}`, import.meta.url).pathname],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
    plugins: [
      {
        name: 'external-better-sqlite3',
        setup(b) {
          b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: sqlite, external: true }));
        },
      },
    ],
  });
  return pathToFileURL(outfile).href;
}
