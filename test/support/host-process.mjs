// A host daemon in its own process (`airssys-wasm host`, the built CLI), for the cluster tests and
// benchmarks: started with --json so its URL is known, stopped with SIGTERM or killed with
// SIGKILL (`kill -9`) to test failover.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminApi } from './admin-api.mjs';

const CLI = fileURLToPath(new URL('../../dist/cli/airssys-wasm.js', import.meta.url));

/** Types: host-process.d.mts. */
export async function startHostProcess(options) {
  const args = [
    CLI,
    'host',
    '--data-dir',
    options.dataDir,
    '--port',
    '0',
    '--threads',
    String(options.threads ?? 1),
    '--cluster',
    options.natsUrl,
    '--cluster-key',
    options.keyFile,
    '--host-id',
    options.hostId,
    '--json',
  ];
  if (options.capacity !== undefined) args.push('--capacity', String(options.capacity));
  for (const label of options.labels ?? []) args.push('--label', label);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const started = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`host ${options.hostId} did not start:\n${stderr}`)),
      30_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`host ${options.hostId} exited with ${code}:\n${out}\n${stderr}`));
    });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined && out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
  });
  child.removeAllListeners('exit');
  const token = readFileSync(join(options.dataDir, 'admin-token'), 'utf8').trim();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    id: options.hostId,
    url: started.url,
    token,
    pid: child.pid,
    api: adminApi(started.url, token),
    /** `kill -9`: no shutdown, no last heartbeat. */
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
