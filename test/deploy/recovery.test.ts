// A host killed with SIGKILL at every step of a blue-green deployment comes back consistent:
// one version serving, its state intact, no deployment left half done. Slow-ish (a Node process
// per step, ~0.5 s each); runs on dist/ like the other multi-process tests.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Deployer } from '../../src/deploy/index.js';
import { ComponentHost } from '../../src/host/index.js';
import { Engine } from '../../src/wasm/index.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp.js';

const child = new URL('../support/deploy-child.mjs', import.meta.url).pathname;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function runChild(dataDir: string, killAt: number) {
  return spawnSync(
    process.execPath,
    [child, dataDir, String(killAt), fixture('counter'), fixture('counter-v2')],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
}

async function recover(dataDir: string) {
  const host = await ComponentHost.create({ threads: 0, dataDir });
  const deployer = new Deployer({ host, engine: new Engine(), dataDir });
  try {
    const started = await deployer.recover();
    const reply = text((await host.request('counter', 'get')).payload);
    const versions = (await host.versions('counter')).map((v) => v.semver);
    const total = host.storage!.namespace('counter.counter').get('total');
    return {
      started,
      reply,
      versions,
      total,
      unfinished: deployer.deployments.unfinished(),
      installed: deployer.registry.list().length,
    };
  } finally {
    await host.close();
    deployer.close();
  }
}

describe('kill -9 during a deployment', () => {
  it('recovers a consistent state at every step', async () => {
    const full = runChild(tempDir('deploy-full'), 1_000);
    expect(full.status, full.stderr).toBe(0);
    const { applied } = JSON.parse(full.stdout);
    expect(applied).toBeGreaterThan(5);
    const outcomes: string[] = [];
    for (let killAt = 0; killAt < applied; killAt++) {
      const dataDir = tempDir(`deploy-kill-${killAt}`);
      const run = runChild(dataDir, killAt);
      expect(run.signal, `step ${killAt}: ${run.stderr}`).toBe('SIGKILL');
      const state = await recover(dataDir);
      expect(state.unfinished).toEqual([]);
      expect(state.installed).toBe(2);
      expect(state.versions).toHaveLength(1);
      if (state.versions[0] === '0.1.0') {
        // Rolled back: v1 serves its count, and whatever v2's migrate wrote was restored away.
        expect(state.reply).toBe('3');
        expect(state.total).toBeUndefined();
      } else {
        expect(state.versions[0]).toBe('0.2.0');
        expect(state.reply).toBe('v2:3');
      }
      outcomes.push(`${killAt}:${state.versions[0]}`);
    }
    // Early kills roll back, late ones finish forward: both paths were exercised.
    expect(outcomes.some((o) => o.endsWith('0.1.0'))).toBe(true);
    expect(outcomes.some((o) => o.endsWith('0.2.0'))).toBe(true);
  }, 120_000);
});
