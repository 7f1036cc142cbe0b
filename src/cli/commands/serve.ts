/**
 * `airssys-wasm serve <component> [--listen HOST:PORT] [--max-body SIZE] [--max-concurrent N]`
 * serves a component that exports `wasi:http/incoming-handler` (the `wasi:http/proxy` world)
 * over HTTP/1.1, like `wasmtime serve` and `jco serve`: each request is one call of its
 * `handle`, with the manifest's fuel and `timeout-ms` (a bare `.wasm`: the host's defaults),
 * in a fresh instance unless `--reuse-instance` (`--pool N` of them made ahead, between
 * requests), on the server's thread or, with `--threads N`, on N worker threads. The guest's
 * stdout and stderr are the process's; a failed request is answered 500 and reported as
 * `error [code]: …` on stderr.
 * Its outgoing requests (`wasi:http/outgoing-handler`) and TCP connections and lookups
 * (`wasi:sockets`) go where `--allow-outbound` or the manifest's `network.outbound` grants,
 * judged by the egress policy; a refusal fails the guest's request and prints `denied …` on
 * stderr.
 * Once listening it prints `serving <name> on http://HOST:PORT` on stderr (port 0: a free one),
 * and with `--json` also `{"ok":true,"url":…,"component":…}` on stdout.
 */

import type { Command } from 'commander';
import { parseSize } from '../../wasm/manifest/units.js';
import { fdSink } from '../../wasm/wasi/fd-io.js';
import { DEFAULT_POOL_SIZE, IncomingHandler } from '../../wasm/wasi/http/incoming-handler.js';
import { DEFAULT_MAX_CONCURRENT, type RequestHandler, serveHttp } from '../../wasm/wasi/http/server.js';
import { HttpWorkerPool } from '../../wasm/wasi/http/worker-pool.js';
import { type EngineFlags, engineFrom, withEngineOptions } from '../engine-options.js';
import { listenAddress } from '../listen-address.js';
import { printJson, reportError, usage } from '../output.js';
import {
  environmentFrom,
  httpFrom,
  printDenied,
  socketsFrom,
  withGuestEnvOptions,
  withOutboundOption,
} from '../run-grants.js';

interface ServeFlags extends EngineFlags {
  listen: string;
  maxBody: string;
  maxConcurrent: string;
  reuseInstance?: boolean;
  pool: string;
  threads: string;
  env: string[];
  inheritEnv?: boolean;
  allowOutbound: string[];
  json?: boolean;
}

export function registerServe(program: Command): void {
  withEngineOptions(
    withGuestEnvOptions(
      withOutboundOption(
        program
          .command('serve')
          .description('serve a wasi:http/incoming-handler component over HTTP, like wasmtime serve')
          .argument('<component>', 'a .wasm file, a component folder or its Component.toml')
          .option('--listen <host:port>', 'address to listen on (port 0: any free port)', '127.0.0.1:8080')
          .option(
            '--max-body <size>',
            'largest request body passed to the guest; larger ones get 413',
            '1MiB',
          )
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
            '--pool <n>',
            'fresh instances kept ready, made between requests',
            String(DEFAULT_POOL_SIZE),
          )
          .option(
            '--threads <n>',
            "threads running the guest: 1 is the server's own, N > 1 starts N workers",
            '1',
          )

          .option(
            '--json',
            'also print one JSON line {ok, url, component} on stdout once listening; errors as JSON',
          ),
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
    const { host, port } = listenAddress(flags.listen, '--listen');
    const maxBodyBytes = parseSize(flags.maxBody);
    const maxConcurrent = Number(flags.maxConcurrent);
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw usage(`--max-concurrent ${flags.maxConcurrent}: expected a whole number of at least 1`);
    }
    const threads = wholeNumber('--threads', flags.threads, 1);
    const poolSize = wholeNumber('--pool', flags.pool, 0);
    const component = await engineFrom(flags).load(path);
    const manifest = path.toLowerCase().endsWith('.wasm') ? undefined : component.manifest;
    const wasi = {
      env: environmentFrom(flags.env, flags.inheritEnv === true, process.env),
      stdoutBytes: fdSink(1),
      stderrBytes: fdSink(2),
      http: httpFrom(flags.allowOutbound, manifest),
      // Linked always, as under run (and wasmtime serve): TCP and lookups on the outbound grants.
      sockets: socketsFrom(flags.allowOutbound, [], manifest),
      onDenied: printDenied,
    };
    const reuseInstance = flags.reuseInstance === true;
    let handler: RequestHandler;
    if (threads > 1) {
      // Each thread links its instances and fills its pool before this resolves.
      handler = await HttpWorkerPool.start(component, {
        threads,
        poolSize,
        reuseInstance,
        env: wasi.env,
        http: wasi.http,
        sockets: wasi.sockets,
        processStdio: true,
      });
    } else {
      const own = new IncomingHandler(component, { reuseInstance, poolSize, wasi });
      // Links (and fills the pool, or starts the --reuse-instance one) now: a missing import fails here, not per request.
      own.prepare();
      handler = own;
    }
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

function wholeNumber(flag: string, text: string, least: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < least)
    throw usage(`${flag} ${text}: expected a whole number of at least ${least}`);
  return n;
}

/** `HOST:PORT`, `[::1]:PORT` or `:PORT` (all interfaces). */
