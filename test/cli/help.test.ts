// Every command of the built CLI (read from its own --help) answers --help with exit 0 and its
// usage, offers --json, and exits 2 on an unknown option — so a new command cannot ship without them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.js';

const CLI = join(ROOT, 'dist', 'cli', 'airssys-wasm.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });

/** Command names listed by `<prefix> --help` (one level). */
function commandsOf(...prefix: string[]): string[] {
  const help = run(...prefix, '--help').stdout;
  const at = help.indexOf('Commands:');
  if (at < 0) return [];
  const section = help.slice(at).split('\n\n')[0]; // up to the blank line (examples may follow)
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
}

describe('airssys-wasm --help', () => {
  const top = commandsOf();
  const all = top.flatMap((c) => {
    const sub = commandsOf(c);
    return sub.length > 0 ? sub.map((s) => [c, s]) : [[c]];
  });

  it('lists the commands of SPEC §8', () => {
    for (const c of [
      'run',
      'validate',
      'inspect',
      'host',
      'install',
      'list',
      'deploy',
      'rollback',
      'call',
      'send',
      'logs',
      'audit',
      'keys',
    ])
      expect(top).toContain(c);
  });

  it.each(all.map((c) => [c.join(' '), c]))(
    '%s: --help, --json, and exit 2 on an unknown option',
    (_name, command) => {
      const help = run(...(command as string[]), '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(`Usage: airssys-wasm ${(command as string[]).join(' ')}`);
      expect(help.stdout).toContain('--json');
      const wrong = run(...(command as string[]), '--no-such-option');
      expect(wrong.status).toBe(2);
    },
  );

  it('stops quietly when its reader does (`| head`)', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" keys --help | head -1`], {
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/^Usage: airssys-wasm keys/);
    expect(r.stderr).not.toContain('EPIPE');
  });
});
