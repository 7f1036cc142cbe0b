/**
 * A reader's terminal, for the docs tests: one bash process per page, fed the page's commands one
 * at a time, so aliases, variables, background jobs (`host … &`, `kill %1`) and the working folder
 * carry over as they do for a person typing them. It runs in a temporary folder that looks like a
 * checkout after `npm run setup` (links to the built `dist/`, `fixtures/`, …), so the default data
 * directory `./.airssys` is private to the test.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

/** What a checkout holds after `npm run setup && npm run fixtures`, as the commands see it. */
const CHECKOUT = ['dist', 'fixtures', 'kit', 'wit', 'examples', 'node_modules', 'package.json'];

export interface Ran {
  output: string;
  status: number;
}

export class ShellSession {
  readonly dir: string;
  private readonly shell: ChildProcessWithoutNullStreams;
  private buffer = '';
  private wake: (() => void) | undefined;
  private exited = false;
  private count = 0;

  constructor(name: string) {
    this.dir = tempDir(`docs-${name}`);
    for (const entry of CHECKOUT) symlinkSync(join(ROOT, entry), join(this.dir, entry));
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'dumb' };
    for (const key of Object.keys(env))
      if (key.startsWith('VITEST') || key === 'NODE_OPTIONS') delete env[key];
    // Its own process group, so whatever a page leaves running is stopped with it.
    this.shell = spawn('bash', ['--noprofile', '--norc'], { cwd: this.dir, env, detached: true });
    const take = (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      this.wake?.();
    };
    this.shell.stdout.on('data', take);
    this.shell.stderr.on('data', take);
    this.shell.on('exit', () => {
      this.exited = true;
      this.wake?.();
    });
    // One stream, as a terminal shows it; aliases as in an interactive shell.
    this.shell.stdin.write('exec 2>&1\nshopt -s expand_aliases\n');
  }

  /** Runs one command line (continuations included) and waits until the shell is back. */
  async run(command: string, timeoutMs = 60_000): Promise<Ran> {
    const marker = `__docs_done_${++this.count}__`;
    this.shell.stdin.write(`${command}\nprintf '\\n${marker} %s\\n' "$?"\n`);
    const re = new RegExp(`\\n?${marker} (\\d+)\\n`);
    const match = await this.until(() => re.exec(this.buffer), timeoutMs, command);
    const output = this.buffer.slice(0, match.index);
    this.buffer = this.buffer.slice(match.index + match[0].length);
    return { output, status: Number(match[1]) };
  }

  /** Output that arrives after a command returned (from background jobs), until `done` says so. */
  async more(done: (output: string) => boolean, timeoutMs: number): Promise<string> {
    let seen = '';
    try {
      await this.until(
        () => {
          seen += this.buffer;
          this.buffer = '';
          return done(seen) ? true : undefined;
        },
        timeoutMs,
        'background output',
      );
    } catch {
      // The caller reports what is missing.
    }
    return seen;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    try {
      process.kill(-this.shell.pid!, 'SIGTERM');
    } catch {}
    const gone = new Promise<void>((resolve) => this.shell.once('exit', () => resolve()));
    const timer = setTimeout(() => {
      try {
        process.kill(-this.shell.pid!, 'SIGKILL');
      } catch {}
    }, 5000);
    await gone;
    clearTimeout(timer);
  }

  private async until<T>(ready: () => T | null | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = ready();
      if (value !== null && value !== undefined) return value;
      if (this.exited) throw new Error(`the shell exited while waiting for ${what}\n${this.buffer}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.buffer}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
