/** Hostile process requests against real coreutils. */

import { afterEach, describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../../src/osl/audit/memory-audit-log.js';
import { createSandbox } from '../../../src/osl/sandbox/sandbox.js';
import { expectRefused } from '../support.js';

const audit = new MemoryAuditLog();
const box = createSandbox({
  component: 'proc',
  version: '0.1.0',
  grants: {
    process: { spawn: ['/usr/bin/echo', '/usr/bin/env', '/usr/bin/sleep', '/usr/bin/yes'], env: ['LANG'] },
  },
  audit,
});
const out = (b: Uint8Array) => new TextDecoder().decode(b);

afterEach(async () => {
  expect(out((await box.process.spawn('/usr/bin/echo', ['up'])).stdout)).toBe('up\n');
});

describe('hostile processes', () => {
  it('process — refuses an ungranted binary', async () => {
    await expectRefused(box.process.spawn('/usr/bin/id'), 'capability-denied', audit, {
      operation: 'process.spawn',
      subject: '/usr/bin/id',
    });
  });

  it('process — refuses a shell, and a missing binary the same way (no existence oracle)', async () => {
    await expectRefused(box.process.spawn('/bin/sh', ['-c', 'id']), 'capability-denied', audit);
    await expectRefused(box.process.spawn('/usr/bin/no-such-tool'), 'capability-denied', audit);
  });

  it('process — refuses a .. path that lands on an ungranted binary', async () => {
    await expectRefused(box.process.spawn('/usr/bin/../bin/id'), 'capability-denied', audit);
  });

  it('process — refuses a relative command (no PATH lookup)', async () => {
    await expectRefused(box.process.spawn('echo', ['hi']), 'invalid-argument', audit);
  });

  it('process — accepts a granted binary through a symlinked path (compared by real path)', async () => {
    expect(out((await box.process.spawn('/bin/echo', ['via', 'symlink'])).stdout)).toBe('via symlink\n');
    expect(audit.records.at(-1)).toMatchObject({ decision: 'allow', subject: '/bin/echo via symlink' });
  });

  it('process — shell metacharacters in arguments are passed literally', async () => {
    const args = ['; id', '$(id)', '`id`', '| cat /etc/passwd', '&& reboot', '*'];
    expect(out((await box.process.spawn('/usr/bin/echo', args)).stdout)).toBe(`${args.join(' ')}\n`);
  });

  it('process — the host environment is not inherited', async () => {
    process.env.AIRSSYS_TEST_SECRET = 'leak';
    try {
      expect(out((await box.process.spawn('/usr/bin/env')).stdout)).toBe('');
      expect(out((await box.process.spawn('/usr/bin/env', [], { env: { LANG: 'C' } })).stdout)).toBe(
        'LANG=C\n',
      );
    } finally {
      delete process.env.AIRSSYS_TEST_SECRET;
    }
  });

  it('process — refuses an ungranted environment variable (LD_PRELOAD)', async () => {
    await expectRefused(
      box.process.spawn('/usr/bin/echo', [], { env: { LD_PRELOAD: '/tmp/evil.so' } }),
      'capability-denied',
      audit,
    );
  });

  it('process — a run past its time is killed with timeout (audited as allowed-then-failed)', async () => {
    const started = Date.now();
    await expectRefused(box.process.spawn('/usr/bin/sleep', ['10'], { timeoutMs: 200 }), 'timeout', audit, {
      decision: 'allow',
    });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('process — output past the cap kills the child', async () => {
    await expectRefused(
      box.process.spawn('/usr/bin/yes', [], { maxOutputBytes: 64 * 1024 }),
      'capability-denied',
      audit,
    );
  });

  it('process — refuses a NUL byte in an argument', async () => {
    await expectRefused(box.process.spawn('/usr/bin/echo', ['a\0b']), 'invalid-argument', audit);
  });
});
