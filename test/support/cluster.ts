/** In-process cluster members for tests: a host, its deployer and its cluster membership. */

import { randomBytes } from 'node:crypto';
import { Cluster, type ClusterOptions } from '../../src/cluster/cluster.js';
import { Deployer } from '../../src/deploy/deployer.js';
import { ComponentHost } from '../../src/host/host.js';
import { Engine } from '../../src/wasm/engine/engine.js';
import { tempDir } from './temp.js';

export interface Member {
  readonly id: string;
  readonly cluster: Cluster;
  readonly host: ComponentHost;
  readonly deployer: Deployer;
  close(): Promise<void>;
}

export const TEST_KEY = new Uint8Array(randomBytes(32));

export async function joinMember(
  url: string,
  id: string,
  options: Partial<ClusterOptions> & { threads?: number; dataDir?: string; recover?: boolean } = {},
): Promise<Member> {
  const dataDir = options.dataDir ?? tempDir(`cluster-${id}`);
  const cluster = await Cluster.connect({
    url,
    hostId: id,
    key: TEST_KEY,
    heartbeatMs: 100,
    lostAfterMs: 500,
    log: process.env.CLUSTER_DEBUG ? (level, message) => console.log(id, level, message) : undefined,
    ...options,
  });
  const host = await ComponentHost.create({ threads: options.threads ?? 0, dataDir, cluster: cluster.link });
  const deployer = new Deployer({
    host,
    engine: new Engine(),
    dataDir,
    pollMs: 1,
    onCommand: process.env.CLUSTER_DEBUG
      ? (deployment, command, error) => console.log(id, deployment, command.op, error ?? '')
      : undefined,
  });
  // As the daemon does: what served before a restart comes back before the host rejoins.
  if (options.recover) await deployer.recover();
  await cluster.start({ host, deployer });
  return {
    id,
    cluster,
    host,
    deployer,
    async close() {
      await cluster.close();
      await host.close();
      deployer.close();
    },
  };
}

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
