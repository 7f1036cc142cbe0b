// Bundles the `airssys-wasm` command into one file (dist/cli/airssys-wasm.js). Note: loading
// ~60 small ES modules cost ~40 ms of a ~200 ms cold `run`; one bundled file loads in a fraction
// of that. The library entry points stay as separate modules in dist/ (built by tsc).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/airssys-wasm.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // Native addon: loaded from node_modules at run time, not bundled.
  external: ['better-sqlite3'],
  // Bundled CommonJS dependencies (commander) still call require().
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
