// A real `nats-server` (Debian's package, installed by .ci/install-system-deps.sh) on a random
// loopback port with JetStream in a temporary folder, for the cluster tests and benchmarks.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * @param {{ port?: number, dir?: string }} [options] the same port and folder restart a stopped server with its JetStream data
 * @returns {Promise<{ url: string, port: number, dir: string, stop(options?: { keepData?: boolean }): Promise<void> }>}
 */
export async function startNats(options = {}) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'airssys-nats-'));
  const child = spawn(
    'nats-server',
    ['-a', '127.0.0.1', '-p', String(options.port ?? -1), '-js', '-sd', dir],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const port = await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 10_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`nats-server could not run (${error.message}); install Debian's nats-server`));
    });
    child.stderr.on('data', (chunk) => {
      log += chunk.toString();
      const found = /Listening for client connections on [^:]+:(\d+)/.exec(log);
      if (found !== null && log.includes('Server is ready')) {
        clearTimeout(timer);
        resolve(Number(found[1]));
      }
    });
  });
  child.stderr.resume();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}
