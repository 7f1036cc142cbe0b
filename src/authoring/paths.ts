/**
 * Where the authoring kit finds what ships with the package: the WIT (`wit/core/core.wit`), the
 * JavaScript kit (`kit/js/`), and the npm packages the build runs (esbuild, componentize-js).
 * The same code runs from `src/` (tests), `dist/` (the library) and the bundled command in
 * `dist/cli/`, so everything is found by walking up from this module, never by a fixed depth.
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AirssysError } from '../shared/errors.js';

const here = dirname(fileURLToPath(import.meta.url));

function* ancestors(start: string): Generator<string> {
  let dir = start;
  for (;;) {
    yield dir;
    const up = dirname(dir);
    if (up === dir || dir === parse(dir).root) return;
    dir = up;
  }
}

let root: string | undefined;

/** The airssys-wasm package folder (the one holding `wit/core/core.wit` and `kit/js/`). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  for (const dir of ancestors(here)) {
    if (
      existsSync(join(dir, 'wit', 'core', 'core.wit')) &&
      existsSync(join(dir, 'kit', 'js', 'airssys.js'))
    ) {
      root = dir;
      return dir;
    }
  }
  throw new AirssysError(
    'internal',
    `cannot find wit/core/core.wit and kit/js/ above ${here}: the airssys-wasm installation is incomplete; reinstall it`,
  );
}

export const corePath = (): string => join(packageRoot(), 'wit', 'core', 'core.wit');
export const kitPath = (file: string): string => join(packageRoot(), 'kit', 'js', file);

export interface InstalledPackage {
  name: string;
  version: string;
  /** Absolute path of the package folder. */
  dir: string;
  /** Absolute path of the module to import (its `exports` import entry, or `main`). */
  entry: string;
}

/**
 * Finds an installed npm package by walking up from `from` (and then from this module) through
 * `node_modules` folders. Imported by file URL, not by name: the bundled command must load these
 * packages from disk at run time (esbuild's binary, componentize-js's wasm), never inline them.
 */
export function findPackage(name: string, from: readonly string[] = []): InstalledPackage | undefined {
  for (const start of [...from, here]) {
    for (const dir of ancestors(start)) {
      const folder = join(dir, 'node_modules', ...name.split('/'));
      const manifestFile = join(folder, 'package.json');
      if (!existsSync(manifestFile)) continue;
      const pkg = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
        version: string;
        main?: string;
        exports?: unknown;
      };
      return { name, version: pkg.version, dir: folder, entry: join(folder, entryOf(pkg)) };
    }
  }
  return undefined;
}

function entryOf(pkg: { main?: string; exports?: unknown }): string {
  const exp = pkg.exports;
  if (typeof exp === 'string') return exp;
  if (exp !== null && typeof exp === 'object') {
    const conditions = ('.' in exp ? (exp as Record<string, unknown>)['.'] : exp) as unknown;
    if (typeof conditions === 'string') return conditions;
    if (conditions !== null && typeof conditions === 'object') {
      const c = conditions as Record<string, unknown>;
      for (const key of ['import', 'node', 'default'])
        if (typeof c[key] === 'string') return c[key] as string;
    }
  }
  return pkg.main ?? 'index.js';
}
