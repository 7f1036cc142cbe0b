// A server in a child process, for the `serve` tests: spawned, ready once its output says so,
// stopped with SIGTERM; and `jco serve` of a component as the reference it is compared with.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';
import { tempDir } from './temp.js';

export const CLI = join(ROOT, 'dist', 'cli', 'airssys-wasm.js');
const JCO = join(ROOT, 'node_modules/@bytecodealliance/jco/dist/jco.js');

export interface Running {
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawns `node argv…` and resolves once `ready` matches its output (group 1: the URL, if any). */
export function start(argv: string[], ready: RegExp, url?: string): Promise<Running> {
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ready} within 60 s:\n${out}\n${err}`)), 60_000);
    const look = () => {
      const found = ready.exec(out + err);
      if (found === null) return;
      clearTimeout(timer);
      resolve({
        url: url ?? found[1],
        child,
        stdout: () => out,
        stderr: () => err,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      look();
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      look();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before it was ready:\n${out}\n${err}`));
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * `airssys-wasm serve COMPONENT` on a free port with a cache of its own, ready once it says
 * where it serves, with a memory ceiling (128 MiB) above what StarlingMonkey guests declare.
 */
export function serveCli(component: string, cacheDir: string, ...flags: string[]): Promise<Running> {
  return start(
    [
      CLI,
      'serve',
      component,
      '--listen',
      '127.0.0.1:0',
      '--max-memory',
      '128MiB',
      '--cache-dir',
      cacheDir,
      ...flags,
    ],
    /serving \S+ on (http:\/\/\S+)/,
  );
}

/** `jco serve` of `wasm`, a fresh instance per request (as StarlingMonkey guests need). */
export async function jcoServe(wasm: string): Promise<Running> {
  const port = await freePort();
  return start(
    [
      JCO,
      'serve',
      wasm,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--isolate-requests',
      'instance',
      '--jco-dir',
      tempDir('jco-serve'),
    ],
    /Server listening/,
    `http://127.0.0.1:${port}`,
  );
}
