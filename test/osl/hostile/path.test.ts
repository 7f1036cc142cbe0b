/**
 * Hostile filesystem requests against the real disk: every escape a guest (or a hostile file
 * tree) can try, each refused with its exact code, audited, and leaving the host working.
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../../src/osl/audit/memory-audit-log.js';
import type { Middleware } from '../../../src/osl/middleware/compose.js';
import { NodeFileSystem } from '../../../src/osl/node/node-file-system.js';
import { createSandbox, type Sandbox } from '../../../src/osl/sandbox/sandbox.js';
import { tempDir } from '../../support/temp.js';
import { expectRefused } from '../support.js';

const base = tempDir('osl-hostile');
const IN = `${base}/data/in`;
const OUT = `${base}/data/out`;
const OUTSIDE = `${base}/outside`;
const bytes = (s: string) => new TextEncoder().encode(s);

let audit: MemoryAuditLog;
let swap: (() => void) | undefined;
let portSwap: (() => void) | undefined;
const swapper: Middleware = async (_ctx, next) => {
  swap?.();
  swap = undefined;
  await next();
};

function sandbox(grants = {}): Sandbox {
  return createSandbox({
    component: 'hostile',
    version: '1.0.0',
    grants: {
      filesystem: { read: [`${IN}/**`, `${OUT}/**`], write: [`${OUT}/**`], deny: [`${IN}/secret/**`] },
      ...grants,
    },
    audit,
    ports: {
      fs: new NodeFileSystem({
        beforeAccess: () => {
          portSwap?.();
          portSwap = undefined;
        },
      }),
    },
    middleware: [swapper],
  });
}

let box: Sandbox;

beforeAll(() => {
  mkdirSync(`${IN}/secret`, { recursive: true });
  mkdirSync(`${IN}/dir`, { recursive: true });
  mkdirSync(OUT, { recursive: true });
  mkdirSync(OUTSIDE, { recursive: true });
  writeFileSync(`${IN}/a.txt`, 'granted');
  writeFileSync(`${IN}/.env`, 'TOKEN=1');
  writeFileSync(`${IN}/secret/key`, 'secret');
  writeFileSync(`${IN}/dir/file`, 'inside');
  writeFileSync(`${OUTSIDE}/passwd`, 'outside');
  symlinkSync('/etc', `${IN}/link-etc`);
  symlinkSync('../../outside', `${IN}/up`);
  symlinkSync('secret/key', `${IN}/alias`);
  symlinkSync('/proc/self/root', `${IN}/rootfs`);
  symlinkSync('../in/a.txt', `${OUT}/to-in`);
  execFileSync('mkfifo', [`${IN}/fifo`]);
});

afterEach(async () => {
  // The host stayed up: a granted read still works after every hostile case.
  expect(new TextDecoder().decode(await box.fs.readFile(`${IN}/a.txt`))).toBe('granted');
  expect(readFileSync(`${OUTSIDE}/passwd`, 'utf8')).toBe('outside');
});

describe('hostile paths', () => {
  beforeAll(() => {
    audit = new MemoryAuditLog();
    box = sandbox();
  });

  it('path — refuses a .. escape out of the grant', async () => {
    await expectRefused(box.fs.readFile(`${IN}/../../outside/passwd`), 'capability-denied', audit, {
      operation: 'fs.read-file',
    });
  });

  it('path — refuses a .. that leaves the root only temporarily', async () => {
    await expectRefused(box.fs.readFile(`${IN}/../in/a.txt`), 'capability-denied', audit);
  });

  it('path — refuses .. above /', async () => {
    await expectRefused(box.fs.readFile('/../../etc/passwd'), 'capability-denied', audit);
  });

  it('path — refuses an absolute path outside every grant', async () => {
    await expectRefused(box.fs.readFile('/etc/passwd'), 'capability-denied', audit, {
      subject: '/etc/passwd',
    });
  });

  it('path — refuses an absolute symlink that leaves the root', async () => {
    await expectRefused(box.fs.readFile(`${IN}/link-etc/passwd`), 'capability-denied', audit);
  });

  it('path — refuses a relative symlink that climbs out', async () => {
    await expectRefused(box.fs.readFile(`${IN}/up/passwd`), 'capability-denied', audit);
  });

  it('path — refuses a symlink into a denied folder (checked on the real path)', async () => {
    await expectRefused(box.fs.readFile(`${IN}/alias`), 'capability-denied', audit);
  });

  it('path — refuses writing through a symlink from a write grant into a read-only one', async () => {
    await expectRefused(box.fs.writeFile(`${OUT}/to-in`, bytes('pwned')), 'capability-denied', audit);
    expect(readFileSync(`${IN}/a.txt`, 'utf8')).toBe('granted');
  });

  it('path — refuses a symlink to /proc/self/root', async () => {
    await expectRefused(box.fs.readFile(`${IN}/rootfs/etc/passwd`), 'capability-denied', audit);
  });

  it('path — a file swapped for a symlink after the guard checked it still fails (race)', async () => {
    writeFileSync(`${IN}/dir/race`, 'inside');
    swap = () => {
      rmSync(`${IN}/dir/race`);
      symlinkSync(`${OUTSIDE}/passwd`, `${IN}/dir/race`);
    };
    await expectRefused(box.fs.readFile(`${IN}/dir/race`), 'capability-denied', audit);
  });

  it('path — a directory swapped for a symlink inside the port, between resolve and open, still fails', async () => {
    mkdirSync(`${OUT}/work`, { recursive: true });
    writeFileSync(`${OUT}/work/passwd`, 'mine');
    portSwap = () => {
      renameSync(`${OUT}/work`, `${OUT}/work-old`);
      symlinkSync(OUTSIDE, `${OUT}/work`);
    };
    // A truncating write: had it followed the swap, the outside file would now be empty.
    await expectRefused(box.fs.writeFile(`${OUT}/work/passwd`, bytes('')), 'capability-denied', audit);
    expect(readFileSync(`${OUTSIDE}/passwd`, 'utf8')).toBe('outside');
  });

  it('path — refuses a NUL byte', async () => {
    await expectRefused(box.fs.readFile(`${IN}/a.txt\0/../../../etc/passwd`), 'invalid-argument', audit, {
      subject: /\\x00/,
    });
  });

  it('path — refuses an overlong UTF-8 encoding of "/" (0xC0 0xAF)', async () => {
    const raw = new Uint8Array([...bytes(`${IN}/..`), 0xc0, 0xaf, ...bytes('etc/passwd')]);
    await expectRefused(box.fs.readFile(raw), 'invalid-argument', audit, { subject: /^bytes:/ });
  });

  it('path — refuses invalid UTF-8', async () => {
    await expectRefused(
      box.fs.readFile(new Uint8Array([...bytes(`${IN}/`), 0xff, 0xfe])),
      'invalid-argument',
      audit,
    );
  });

  it('path — refuses a lone UTF-16 surrogate', async () => {
    await expectRefused(box.fs.readFile(`${IN}/\ud800.txt`), 'invalid-argument', audit);
  });

  it('path — refuses a relative path', async () => {
    await expectRefused(box.fs.readFile('data/in/a.txt'), 'invalid-argument', audit);
  });

  it('path — /proc and /dev are never granted by a glob, even /**', async () => {
    const wide = sandbox({ filesystem: { read: ['/**'] } });
    await expectRefused(wide.fs.readFile('/proc/self/root/etc/passwd'), 'capability-denied', audit);
    await expectRefused(wide.fs.readFile('/proc/self/environ'), 'capability-denied', audit);
    await expectRefused(wide.fs.stat('/dev/sda'), 'capability-denied', audit);
  });

  it('path — refuses a write to a read-only grant and leaves the file alone', async () => {
    await expectRefused(box.fs.writeFile(`${IN}/a.txt`, bytes('x')), 'capability-denied', audit, {
      operation: 'fs.write-file',
    });
  });

  it('path — refuses truncation through open flags on a read-only grant', async () => {
    await expectRefused(
      box.fs.open(`${IN}/a.txt`, { read: true, truncate: true }),
      'capability-denied',
      audit,
      {
        operation: 'fs.open',
      },
    );
  });

  it('path — refuses create, unlink and rename on a read-only grant', async () => {
    await expectRefused(box.fs.open(`${IN}/new`, { create: true }), 'capability-denied', audit);
    await expectRefused(box.fs.unlink(`${IN}/a.txt`), 'capability-denied', audit);
    await expectRefused(box.fs.rename(`${IN}/a.txt`, `${OUT}/stolen`), 'capability-denied', audit);
  });

  it('path — deny rules beat allow rules', async () => {
    await expectRefused(box.fs.readFile(`${IN}/secret/key`), 'capability-denied', audit, {
      subject: `${IN}/secret/key`,
    });
  });

  it('path — wildcards do not grant dotfiles', async () => {
    await expectRefused(box.fs.readFile(`${IN}/.env`), 'capability-denied', audit);
  });

  it('path — a FIFO inside the grant is refused without hanging the host', async () => {
    await expectRefused(box.fs.readFile(`${IN}/fifo`), 'invalid-argument', audit, { decision: 'allow' });
  });

  it('path — grants and denials are both in the audit log', async () => {
    await box.fs.readFile(`${IN}/a.txt`);
    expect(audit.query({ decision: 'allow', operation: 'fs.read-file' })[0]).toMatchObject({
      component: 'hostile',
      version: '1.0.0',
      subject: `${IN}/a.txt`,
      reason: 'granted',
    });
    expect(audit.query({ decision: 'deny' }).length).toBeGreaterThan(20);
  });
});
