/**
 * The process port over `child_process.spawn`.
 *
 * THREAT MODEL: a guest that may run one program must not get a shell (`sh -c "convert $IN"`
 * turns `; rm -rf /` in an argument into a command), the host's environment (secrets in
 * `AWS_SECRET_ACCESS_KEY`, `LD_PRELOAD`/`NODE_OPTIONS` steering the child), unbounded time or
 * unbounded output held in host memory. So: `shell: false` with an argument array, `env`
 * replaced wholesale, the child in its own process group so a timeout kills grandchildren too,
 * and output counted as it arrives, killing the group at the cap. What the child itself may do
 * to the host is *not* sandboxed here: it runs with the host's OS privileges (docs/security.md).
 */

import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { AirssysError } from '../../shared/errors.js';
import { denied } from '../deny.js';
import type { Process, SpawnRequest, SpawnResult } from '../ports/process.js';

/**
 * @example
 * const proc = new NodeProcess();
 * const out = await proc.spawn({ command: '/bin/echo', args: ['hi'], env: {}, timeoutMs: 1000, maxOutputBytes: 4096 });
 */
export class NodeProcess implements Process {
  async realpath(path: string): Promise<string> {
    try {
      return await realpath(path);
    } catch (error) {
      throw new AirssysError('not-found', `executable ${path} does not exist`, {
        cause: error,
        blame: 'guest',
      });
    }
  }

  spawn(request: SpawnRequest): Promise<SpawnResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(request.command, [...request.args], {
        shell: false,
        env: { ...request.env },
        cwd: '/',
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let size = 0;
      let failure: AirssysError | undefined;
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      const fail = (error: AirssysError) => {
        failure ??= error;
        killGroup();
      };
      const timer = setTimeout(
        () =>
          fail(
            new AirssysError('timeout', `${request.command} ran longer than ${request.timeoutMs} ms`, {
              blame: 'guest',
            }),
          ),
        request.timeoutMs,
      );
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxOutputBytes) {
          fail(
            denied(`${request.command} wrote more than ${request.maxOutputBytes} bytes of output`, {
              limit: request.maxOutputBytes,
              quota: 'output',
            }),
          );
        } else into.push(chunk);
      };
      child.stdout.on('data', collect(stdout));
      child.stderr.on('data', collect(stderr));
      child.stdin.on('error', () => {}); // a child that exits without reading stdin is not an error
      child.stdin.end(request.stdin === undefined ? undefined : Buffer.from(request.stdin));
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? new AirssysError('not-found', `executable ${request.command} does not exist`, {
                cause: error,
                blame: 'guest',
              })
            : new AirssysError('internal', `could not spawn ${request.command}: ${error.message}`, {
                cause: error,
              }),
        );
      });
      child.on('close', (exitCode, signal) => {
        clearTimeout(timer);
        if (failure) reject(failure);
        else resolve({ exitCode, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
      });
    });
  }
}
