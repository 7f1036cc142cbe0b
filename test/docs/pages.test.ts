// The commands in the docs, run as a reader runs them: each page's tested `sh` blocks in one
// shell session against the built CLI, in a temporary folder with its own data directory; every
// `#` line under a command must show up in its output. Markers: test/docs/markdown.ts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  blocks,
  docsPages,
  expectedStatus,
  outputLines,
  read,
  SHELL_LANGS,
  steps,
  unmatched,
} from './markdown.js';
import { ShellSession } from './shell-session.js';

/** Pages whose commands run; getting-started.md defines the `airssys-wasm` alias itself. */
const PAGES = [
  'docs/getting-started.md',
  'docs/guides/writing-a-component.md',
  'docs/guides/permissions.md',
  'docs/guides/deploying.md',
  'docs/guides/operating.md',
  'docs/guides/cluster.md',
];
const ALIAS = 'alias airssys-wasm="node $PWD/dist/cli/airssys-wasm.js"';

/** Pages written for issue #7 whose every command block must be tested or say why not. */
const OWN = [...PAGES, 'docs/README.md', 'docs/architecture.md', 'docs/guides/embedding.md'];

/** Tools the pages call besides the CLI and Node.js (`npm run setup` installs neither). */
const TOOLS = ['curl', 'tar', 'nats-server'];

function which(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

async function runPage(page: string): Promise<void> {
  const text = read(page);
  for (const tool of TOOLS) {
    const used = blocks(text).some(
      (b) => b.marker === 'test' && new RegExp(`(^|[|;&(]\\s*)${tool} `, 'm').test(b.body),
    );
    if (used) expect(which(tool), `${page} runs ${tool}: install it (apt-get install ${tool})`).toBe(true);
  }
  const session = new ShellSession(basename(page, '.md'));
  try {
    if (page !== 'docs/getting-started.md') await session.run(ALIAS);
    for (const block of blocks(text)) {
      const file = /^test: file (.+)$/.exec(block.marker ?? '')?.[1];
      if (file !== undefined) {
        mkdirSync(dirname(join(session.dir, file)), { recursive: true });
        writeFileSync(join(session.dir, file), `${block.body}\n`);
        continue;
      }
      if (block.marker !== 'test') continue;
      for (const step of steps(block)) {
        const background = step.command.trimEnd().endsWith('&');
        const lines = outputLines(step.expected);
        const ran = await session.run(step.command);
        let output = ran.output;
        if (unmatched(lines, output).length > 0) {
          // A background job prints when it is ready; anything else has had its say.
          output += await session.more(
            (more) => unmatched(lines, output + more).length === 0,
            background ? 60_000 : 1000,
          );
        }
        const where = `${page}:${step.line}: $ ${step.command}\n--- output (exit ${ran.status}) ---\n${output}`;
        expect(unmatched(lines, output), where).toEqual([]);
        if (background) continue;
        const status = expectedStatus(step.expected);
        if (status === 'non-zero') expect(ran.status, where).not.toBe(0);
        else expect(ran.status, where).toBe(status);
      }
    }
  } finally {
    await session.close();
  }
}

describe('docs — commands', () => {
  for (const page of PAGES) {
    it(`${page}: every command runs and prints what the page shows`, () => runPage(page), 300_000);
  }

  it('every command block in the pages of issue #7 is tested, or says why not', () => {
    const pages = docsPages().filter((p) => OWN.includes(p));
    expect(pages).toContain('docs/getting-started.md');
    for (const page of pages) {
      for (const block of blocks(read(page))) {
        if (!SHELL_LANGS.has(block.lang)) continue;
        const ok = block.marker === 'test' || /^not tested: \S/.test(block.marker ?? '');
        expect(
          ok,
          `${page}:${block.line}: a command block without <!-- test --> or <!-- not tested: why -->`,
        ).toBe(true);
      }
    }
  });

  it('the untested set-up commands of getting-started.md are npm scripts that exist', () => {
    const scripts = Object.keys(JSON.parse(read('package.json')).scripts);
    for (const block of blocks(read('docs/getting-started.md'))) {
      if (!block.marker?.startsWith('not tested')) continue;
      for (const step of steps(block)) {
        const script = /^npm run ([\w:-]+)/.exec(step.command)?.[1];
        expect(script, step.command).toBeDefined();
        expect(scripts).toContain(script);
      }
    }
  });
});
