// Bundles the `airssys-wasm` command into one file (dist/cli/main.js), started by a small
// launcher (dist/cli/airssys-wasm.js) that checks the Node.js line first. Note: loading
// ~60 small ES modules cost ~40 ms of a ~200 ms cold `run`; one bundled file loads in a fraction
// of that. The library entry points stay as separate modules in dist/ (built by tsc).
//
// Beside it: the scheduler-thread entry (the host starts `./worker.js` next to the code that
// creates it, which in the bundle is dist/cli/) and the dashboard page, which the daemon reads
// next to its code — in dist/daemon for the library and dist/cli for the bundle.
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  logLevel: 'warning',
  // Loaded from node_modules at run time: a native addon, and a framework with optional
  // dynamic requires (its logger's transports) that a bundle would break.
  external: ['better-sqlite3', 'fastify', 'pino', 'prom-client'],
  // Bundled CommonJS dependencies (commander) still call require().
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
};

await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli/main.js' });
await build({
  ...common,
  entryPoints: ['src/cli/launch.ts'],
  outfile: 'dist/cli/airssys-wasm.js',
  external: ['./main.js'],
  banner: {},
});
await build({ ...common, entryPoints: ['src/host/worker.ts'], outfile: 'dist/cli/worker.js' });
// The outbound-HTTP bridge thread (osl/node/sync-http-bridge.ts starts it next to itself).
await build({
  ...common,
  entryPoints: ['src/osl/node/sync-http-worker.ts'],
  outfile: 'dist/cli/sync-http-worker.js',
});
// The socket thread of wasi:sockets (osl/node/sync-socket-bridge.ts starts it next to itself).
await build({
  ...common,
  entryPoints: ['src/osl/node/sync-socket-worker.ts'],
  outfile: 'dist/cli/sync-socket-worker.js',
});
// The `serve --threads` thread (wasm/wasi/http/worker-pool.ts starts it next to itself).
await build({
  ...common,
  entryPoints: ['src/wasm/wasi/http/http-worker.ts'],
  outfile: 'dist/cli/http-worker.js',
});
// The thread of a daemon job without JSPI (wasm/wasi/command-thread.ts starts it next to itself).
await build({
  ...common,
  entryPoints: ['src/wasm/wasi/command-thread-worker.ts'],
  outfile: 'dist/cli/command-thread-worker.js',
});
await mkdir('dist/daemon', { recursive: true });
for (const dir of ['dist/cli', 'dist/daemon'])
  await copyFile('src/daemon/dashboard.html', `${dir}/dashboard.html`);
