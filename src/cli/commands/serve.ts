/**
 * `airssys-wasm serve <component> [--listen HOST:PORT] [--max-body SIZE] [--max-concurrent N]`
 * serves a component that exports `wasi:http/incoming-handler` (the `wasi:http/proxy` world)
 * over HTTP/1.1, like `wasmtime serve` and `jco serve`: each request is one call of its
 * `handle`, with the manifest's fuel and `timeout-ms` (a bare `.wasm`: the host's defaults),
 * in a fresh instance unless `--reuse-instance`. The guest's stdout and stderr are the
 * process's; a failed request is answered 500 and reported as `error [code]: …` on stderr.
 * Once listening it prints `serving <name> on http://HOST:PORT` on stderr (port 0: a free one),
 * and with `--json` also `{"ok":true,"url":…,"component":…}` on stdout.
 */

import type { Command } from 'commander';
import { parseSize } from '../../wasm/manifest/units.js';
import { fdSink } from '../../wasm/wasi/fd-io.js';
import { IncomingHandler } from '../../wasm/wasi/http/incoming-handler.js';
import { DEFAULT_MAX_CONCURRENT, serveHttp } from '../../wasm/wasi/http/server.js';
import { type EngineFlags, engineFrom, withEngineOptions } from '../engine-options.js';
import { printJson, reportError, usage } from '../output.js';
import { environmentFrom, withGuestEnvOptions } from '../run-grants.js';

interface ServeFlags extends EngineFlags {
  listen: string;
  maxBody: string;
  maxConcurrent: string;
  reuseInstance?: boolean;
  env: string[];
  inheritEnv?: boolean;
  json?: boolean;
}

export function registerServe(program: Command): void {
  withEngineOptions(
    withGuestEnvOptions(
      program
        .command('serve')
        .description('serve a wasi:http/incoming-handler component over HTTP, like wasmtime serve')
        .argument('<component>', 'a .wasm file, a component folder or its Component.toml')
        .option('--listen <host:port>', 'address to listen on (port 0: any free port)', '127.0.0.1:8080')
        .option('--max-body <size>', 'largest request body passed to the guest; larger ones get 413', '1MiB')
        .option(
          '--max-concurrent <n>',
          'requests held at once (reading, queued or running); more get 503',
          String(DEFAULT_MAX_CONCURRENT),
        )
        .option(
          '--reuse-instance',
          'keep a healthy instance for the next request instead of a fresh one each',
        )

        .option(
          '--json',
          'also print one JSON line {ok, url, component} on stdout once listening; errors as JSON',
        ),
    ),
  ).action(async (path: string, flags: ServeFlags) => {
    const code = await serve(path, flags);
    if (code !== undefined) process.exitCode = code;
  });
}

/** Resolves once listening (undefined: keep running) or with an exit code when it cannot start. */
async function serve(path: string, flags: ServeFlags): Promise<number | undefined> {
  try {
    const { host, port } = listenAddress(flags.listen);
    const maxBodyBytes = parseSize(flags.maxBody);
    const maxConcurrent = Number(flags.maxConcurrent);
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw usage(`--max-concurrent ${flags.maxConcurrent}: expected a whole number of at least 1`);
    }
    const component = await engineFrom(flags).load(path);
    const handler = new IncomingHandler(component, {
      reuseInstance: flags.reuseInstance === true,
      wasi: {
        env: environmentFrom(flags.env, flags.inheritEnv === true, process.env),
        stdoutBytes: fdSink(1),
        stderrBytes: fdSink(2),
      },
    });
    // Links (and with --reuse-instance starts) it now: a missing import fails here, not per request.
    handler.prepare();
    const server = await serveHttp(handler, {
      host,
      port,
      maxBodyBytes,
      maxConcurrent,
      onError: (line) => process.stderr.write(`${line}\n`),
    });
    process.stderr.write(`serving ${component.name} on ${server.url}\n`);
    if (flags.json) printJson({ ok: true, url: server.url, component: component.name });
    const stop = () => {
      void server.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return undefined;
  } catch (error) {
    return reportError(error, flags.json === true);
  }
}

/** `HOST:PORT`, `[::1]:PORT` or `:PORT` (all interfaces). */
function listenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = match === null ? Number.NaN : Number(match[3]);
  if (match === null || port > 65535)
    throw usage(`--listen ${text}: expected HOST:PORT, e.g. 127.0.0.1:8080`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}
