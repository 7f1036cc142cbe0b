// docs/reference/ is generated from the code (scripts/gen-reference.mjs): regenerated into a
// temporary folder, it must equal what is committed, so the reference cannot go stale.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

/** The first line where two texts differ, for a message that shows what went stale. */
function firstDifference(committed: string, generated: string): string {
  const a = committed.split('\n');
  const b = generated.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  const i = at === -1 ? a.length : at;
  return `line ${i + 1}:\n  committed: ${a[i] ?? '(end of file)'}\n  generated: ${b[i] ?? '(end of file)'}`;
}

describe('docs — reference', () => {
  it('docs/reference/ is what scripts/gen-reference.mjs makes of the code now', () => {
    const out = tempDir('docs-reference');
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-reference.mjs'), '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const committedDir = join(ROOT, 'docs', 'reference');
    const generated = readdirSync(out).sort();
    expect(readdirSync(committedDir).sort()).toEqual(generated);
    for (const name of generated) {
      const committed = readFileSync(join(committedDir, name), 'utf8');
      const fresh = readFileSync(join(out, name), 'utf8');
      if (committed !== fresh) {
        expect.fail(
          `docs/reference/${name} is stale (run \`npm run build && npm run docs\`), first difference at ${firstDifference(committed, fresh)}`,
        );
      }
    }
  }, 180_000);
});
