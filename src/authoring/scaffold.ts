/**
 * `airssys-wasm new`: writes a component folder for the world `airssys:core/component@1.0.0` —
 * manifest, source, the JavaScript kit, the WIT it targets, and a test that runs it in a host.
 * Nothing is overwritten: the folder must not exist yet.
 */

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AirssysError } from '../shared/errors.js';
import { corePath, kitPath, packageRoot } from './paths.js';
import {
  componentJs,
  componentTs,
  GITIGNORE,
  LANGS,
  type Lang,
  manifest,
  packageJson,
  readme,
  TSCONFIG,
  testMjs,
} from './templates.js';

/** The manifest's rule for component names. */
const NAME_RE = /^[a-z][a-z0-9-]*$/;
const NAME_MAX = 64;

export interface ScaffoldOptions {
  /** Component name: `[a-z][a-z0-9-]*`, at most 64 characters. */
  name: string;
  lang: Lang;
  /** Folder to create (default: `./<name>`); it must not exist. */
  dir?: string;
}

export interface ScaffoldResult {
  name: string;
  lang: Lang;
  /** Absolute path of the new folder. */
  dir: string;
  /** Files written, relative to `dir`, in a stable order. */
  files: string[];
}

function invalid(message: string, details: Record<string, unknown>): AirssysError {
  return new AirssysError('invalid-argument', message, { blame: 'host', details });
}

export function checkName(name: string): void {
  if (name.length > NAME_MAX || !NAME_RE.test(name)) {
    throw invalid(
      `"${name}" is not a component name: use lower-case letters, digits and hyphens, starting with a letter (at most ${NAME_MAX} characters), e.g. "order-router"`,
      { field: 'name', value: name },
    );
  }
}

export function checkLang(lang: string): asserts lang is Lang {
  if (!(LANGS as readonly string[]).includes(lang)) {
    throw invalid(`--lang must be one of ${LANGS.join(', ')}, got "${lang}"`, { field: 'lang', value: lang });
  }
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Creates the component folder.
 *
 * @example
 * const { dir, files } = await scaffold({ name: 'greeter', lang: 'ts' });
 */
export async function scaffold(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { name, lang } = options;
  checkName(name);
  checkLang(lang);
  const dir = resolve(options.dir ?? name);
  if (existsSync(dir)) {
    throw invalid(`${dir} already exists; pick a new folder with --dir, or remove it first`, {
      field: 'dir',
      path: dir,
    });
  }
  const source = lang === 'ts' ? 'src/component.ts' : 'src/component.js';
  const files: Record<string, string> = {
    'Component.toml': manifest(name, lang),
    [source]: lang === 'ts' ? componentTs(name) : componentJs(name),
    'src/airssys.js': await readFile(kitPath('airssys.js'), 'utf8'),
    'src/airssys.d.ts': await readFile(kitPath('airssys.d.ts'), 'utf8'),
    'wit/core.wit': await readFile(corePath(), 'utf8'),
    'test.mjs': testMjs(name, lang),
    'package.json': packageJson(name, lang, packageVersion()),
    ...(lang === 'ts' ? { 'tsconfig.json': TSCONFIG } : {}),
    'README.md': readme(name, lang),
    '.gitignore': GITIGNORE,
  };
  await mkdir(dirname(dir), { recursive: true });
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw invalid(`${dir} already exists; pick a new folder with --dir, or remove it first`, {
        field: 'dir',
        path: dir,
      });
    }
    throw error;
  }
  try {
    await mkdir(join(dir, 'src'));
    await mkdir(join(dir, 'wit'));
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text, { flag: 'wx' });
  } catch (error) {
    // Note: a half-written folder would make the next `new` refuse; remove what we made.
    await rm(dir, { recursive: true, force: true });
    throw new AirssysError('internal', `cannot write ${dir}: ${(error as Error).message}`, { cause: error });
  }
  return { name, lang, dir, files: Object.keys(files) };
}
