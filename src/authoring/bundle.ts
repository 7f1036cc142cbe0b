/**
 * Build phase 1, `bundle`: the component's entry (TypeScript or JavaScript) and everything it
 * imports become one ES module, with esbuild. Only the WIT imports (`airssys:…`, `wasi:…`) stay
 * imports: componentize-js binds those. TypeScript is compiled, not type-checked.
 */

import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildFailure, BuildOptions, BuildResult, Message as EsbuildMessage, Metafile } from 'esbuild';
import { AirssysError } from '../shared/errors.js';
import { findPackage } from './paths.js';
import { positionMapper, type SourceMapV3 } from './source-map.js';

/** The export the bindings for `airssys:core/component-lifecycle` call. */
export const LIFECYCLE_EXPORT = 'componentLifecycle';

export interface Bundle {
  code: string;
  /** Rewrites `component.js:LINE:COL` (positions in the bundle) to the author's `file:line:col`. */
  remap: (text: string) => string;
  /** Names the module exports. */
  exports: string[];
  esbuildVersion: string;
}

interface Esbuild {
  build(
    options: BuildOptions & { write: false; metafile: true },
  ): Promise<BuildResult & { metafile: Metafile }>;
  version: string;
}

async function esbuild(projectDir: string): Promise<Esbuild> {
  const pkg = findPackage('esbuild', [projectDir]);
  if (pkg === undefined) {
    throw new AirssysError(
      'not-found',
      'esbuild is not installed; install it next to airssys-wasm (npm install esbuild) and build again',
      { blame: 'host', details: { phase: 'bundle', package: 'esbuild' } },
    );
  }
  const mod = (await import(pathToFileURL(pkg.entry).href)) as Esbuild & { default?: Esbuild };
  return typeof mod.build === 'function' ? mod : (mod.default as Esbuild);
}

/** esbuild reports files relative to its working directory (the component folder). */
function authorPath(file: string, projectDir: string): string {
  return relative(projectDir, resolve(projectDir, file)) || file;
}

function where(message: EsbuildMessage, projectDir: string): string {
  const loc = message.location;
  if (!loc) return message.text;
  return `${authorPath(loc.file, projectDir)}:${loc.line}:${loc.column + 1}: ${message.text}`;
}

/** Bundles `entry` (absolute path) for componentize-js. */
export async function bundle(entry: string, projectDir: string): Promise<Bundle> {
  const { build, version } = await esbuild(projectDir);
  let result: BuildResult & { metafile: Metafile };
  try {
    result = await build({
      entryPoints: [entry],
      absWorkingDir: projectDir,
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      target: 'es2022',
      external: ['airssys:*', 'wasi:*'],
      logLevel: 'silent',
      charset: 'utf8',
      legalComments: 'none',
      // Not written (write: false): names the output, whose source map locates the author's files.
      outfile: join(projectDir, 'component.bundle.js'),
      sourcemap: 'external',
      sourcesContent: false,
    });
  } catch (error) {
    const failure = error as Partial<BuildFailure>;
    const errors = failure.errors ?? [];
    if (errors.length === 0) throw error;
    const lines = errors.slice(0, 5).map((m) => where(m, projectDir));
    throw new AirssysError(
      'invalid-component',
      `the source does not compile: ${lines.join('; ')}${errors.length > 5 ? ` (and ${errors.length - 5} more)` : ''}; fix it and run airssys-wasm build again`,
      {
        blame: 'guest',
        cause: error,
        details: {
          phase: 'bundle',
          errors: errors.map((m) => ({
            file: m.location ? authorPath(m.location.file, projectDir) : undefined,
            line: m.location?.line,
            column: m.location ? m.location.column + 1 : undefined,
            text: m.text,
          })),
        },
      },
    );
  }
  const output = result.outputFiles?.find((f) => f.path.endsWith('.js'));
  const mapFile = result.outputFiles?.find((f) => f.path.endsWith('.js.map'));
  if (output === undefined) throw new AirssysError('internal', 'esbuild produced no output');
  const exports =
    Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('.js'))?.[1].exports ?? [];
  if (!exports.includes(LIFECYCLE_EXPORT)) {
    throw new AirssysError(
      'invalid-component',
      `${relative(projectDir, entry)} does not export \`${LIFECYCLE_EXPORT}\` (the component-lifecycle interface): add \`export const ${LIFECYCLE_EXPORT} = defineComponent({ handleMessage(message) { ... } })\``,
      { blame: 'guest', details: { phase: 'bundle', exports } },
    );
  }
  const position = mapFile ? positionMapper(JSON.parse(mapFile.text) as SourceMapV3, (s) => s) : undefined;
  const remap = (text: string) =>
    position === undefined
      ? text
      : text.replace(
          /\bcomponent\.js:(\d+):(\d+)/g,
          (found, line, column) => position(+line, +column) ?? found,
        );
  return {
    code: output.text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n'),
    remap,
    exports,
    esbuildVersion: version,
  };
}
