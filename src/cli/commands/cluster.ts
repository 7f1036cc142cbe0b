/**
 * `airssys-wasm cluster status | deploy | undeploy | keygen`: the cluster a running host belongs to
 * (docs/cluster.md), through that host's admin API (`/v1/cluster`), and the key every host of a
 * cluster shares. `keygen` needs no host.
 *
 * Note: `keygen` never overwrites. Hosts that still hold the old key would refuse every frame and
 * heartbeat sealed with the new one, so replacing the key of a running cluster splits it; an
 * existing file is an error, and replacing it is a deliberate `rm` first.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ClusterStatus } from '../../cluster/cluster.js';
import { ROLLOUT_KINDS } from '../../cluster/cluster-deployments.js';
import { AirssysError } from '../../shared/errors.js';
import { adminCall } from '../admin-client.js';
import { EXIT_OK, printJson, reportError, usage } from '../output.js';
import { type DataDirFlags, formatTable, formatTime, withDataDirOptions } from './install.js';

/** Bytes of a new cluster key (the least `readClusterKey` accepts). */
const KEY_BYTES = 32;

const SPREADS = ['spread', 'pack'] as const;
const STATES = ['per-host', 'replicated'] as const;

interface DeployFlags extends DataDirFlags {
  address?: string;
  instances?: string;
  spread?: string;
  maxPerHost?: string;
  affinity: string[];
  rollout?: string;
  bakeMs?: string;
  state?: string;
  acceptPermissions?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerCluster(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('the cluster of the running host: status, deployments placed across hosts, its key')
    .addHelpText(
      'after',
      `
The host must have joined a cluster (airssys-wasm host --cluster nats://… --cluster-key <file>);
otherwise status, deploy and undeploy answer not-found. See docs/cluster.md.

Example:
  airssys-wasm cluster keygen cluster.key
  airssys-wasm cluster deploy counter --instances 3 --data-dir a
  airssys-wasm cluster status --data-dir a
  airssys-wasm cluster undeploy counter --data-dir a`,
    );

  withDataDirOptions(
    cluster
      .command('status')
      .description('show the hosts of the cluster, its deployments and their placement')
      .addHelpText(
        'after',
        `
With --json: {"ok":true,"cluster":{name,self,hosts:[{id,self,capacity,labels,admin?,lastSeenMs,
addresses:{<address>:{versions,instances}}}],deployments:[{address,component,version,hash,
instances,spread,affinity?,maxPerHost?,rollout,bakeMs?,updatedAt,placement:{<host>:n},unplaced}],
progress:[{address,want,phase,detail?}],link:{framesOut,framesIn,messagesOut,messagesIn,refused,dropped}}}.`,
      ),
  ).action(async (flags: DataDirFlags) => {
    try {
      const doc = await adminCall(flags.dataDir, 'GET', '/v1/cluster');
      if (flags.json) printJson(doc);
      else process.stdout.write(describeStatus(doc.cluster as ClusterStatus));
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });

  withDataDirOptions(
    cluster
      .command('deploy')
      .description('declare (or change) a deployment the hosts of the cluster place and run')
      .argument('<component>', 'component name, installed on the running host')
      .argument('[version]', 'semver of an installed version (default: the latest)')
      .option('--address <address>', 'address (default: the component name)')
      .option('--instances <n>', 'instances across the cluster (default: as deployed, else 1)')
      .option('--spread <how>', `${SPREADS.join(' | ')}: even over the hosts, or fill hosts in turn`)
      .option('--max-per-host <n>', 'at most this many instances on one host')
      .option(
        '--affinity <name=value>',
        'only hosts with this label (repeatable: all must match)',
        collect,
        [],
      )
      .option('--rollout <kind>', `${ROLLOUT_KINDS.join(' | ')} (default: as deployed, else rolling)`)
      .option(
        '--bake-ms <ms>',
        'canary: how long the first host serves the new version before the others follow',
      )
      .option(
        '--state <kind>',
        'per-host (each host its own storage) | replicated (storage follows the one instance to its next host)',
      )
      .option('--accept-permissions', 'accept permissions the new version adds to those of the deployed one')
      .addHelpText(
        'after',
        `
Returns once the deployment is stored; each host then places its share (follow it with
\`airssys-wasm cluster status\`). Bad flags are usage errors (exit 2).
With --json: {"ok":true,"deployment":{address,component,version,hash,instances,spread,
affinity?,maxPerHost?,rollout,bakeMs?,state,updatedAt}}.`,
      ),
  ).action(async (component: string, version: string | undefined, flags: DeployFlags) => {
    try {
      const body = {
        component,
        version,
        instances: count(flags.instances, '--instances', 1),
        spread: choice(flags.spread, '--spread', SPREADS),
        maxPerHost: count(flags.maxPerHost, '--max-per-host', 1),
        affinity: flags.affinity.length === 0 ? undefined : labels(flags.affinity, '--affinity'),
        rollout: choice(flags.rollout, '--rollout', ROLLOUT_KINDS),
        bakeMs: count(flags.bakeMs, '--bake-ms', 0),
        state: choice(flags.state, '--state', STATES),
        acceptPermissions: flags.acceptPermissions === true,
      };
      const address = flags.address ?? component;
      const doc = await adminCall(
        flags.dataDir,
        'PUT',
        `/v1/cluster/deployments/${encodeURIComponent(address)}`,
        body,
      );
      if (flags.json) printJson(doc);
      else process.stdout.write(describeDeployment(doc.deployment as Deployment, flags.dataDir));
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });

  withDataDirOptions(
    cluster
      .command('undeploy')
      .description('remove a cluster deployment: every host stops its share')
      .argument('<address>', 'the address of the deployment'),
  ).action(async (address: string, flags: DataDirFlags) => {
    try {
      await adminCall(flags.dataDir, 'DELETE', `/v1/cluster/deployments/${encodeURIComponent(address)}`);
      if (flags.json) printJson({ ok: true, address });
      else process.stdout.write(`removed the cluster deployment ${address}: each host stops its share\n`);
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });

  cluster
    .command('keygen')
    .description(`write a new cluster key: ${KEY_BYTES} random bytes as hex, mode 0600`)
    .argument('<file>', 'where to write it (must not exist)')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Copy the file to every host of the cluster and pass it as --cluster-key. Refuses to overwrite
an existing file (exit 2): hosts holding the old key would refuse everything sealed with a new one.
With --json: {"ok":true,"file":<absolute path>,"bytes":${KEY_BYTES}}.`,
    )
    .action((file: string, flags: { json?: boolean }) => {
      try {
        const written = writeClusterKey(file);
        if (flags.json) printJson({ ok: true, file: written, bytes: KEY_BYTES });
        else {
          process.stdout.write(
            `wrote ${written} (${KEY_BYTES} random bytes, hex, mode 0600): copy it to every host of the cluster and pass --cluster-key ${file}\n`,
          );
        }
        process.exitCode = EXIT_OK;
      } catch (error) {
        process.exitCode = reportError(error, flags.json ?? false);
      }
    });
}

/** Writes a new key to `file`, which must not exist yet; returns its absolute path. */
function writeClusterKey(file: string): string {
  const full = resolve(file);
  if (existsSync(full)) {
    throw usage(
      `${full} already exists: a cluster key is never overwritten (hosts holding it would refuse the new one); remove it first if you mean to replace it`,
    );
  }
  try {
    mkdirSync(dirname(full), { recursive: true });
    // Note: 'wx' fails if the file appeared meanwhile; the mode is set at creation, so the key
    // is never readable by others, not even for a moment.
    writeFileSync(full, `${randomBytes(KEY_BYTES).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new AirssysError(
      code === 'EEXIST' ? 'invalid-argument' : 'storage-error',
      `cannot write ${full} (${code}): ${code === 'EEXIST' ? 'it appeared meanwhile; a cluster key is never overwritten' : 'check that the folder is writable'}`,
      { cause: error, details: { path: full } },
    );
  }
  return full;
}

/** A whole-number flag, at least `min` (undefined when not given). */
function count(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min)
    throw usage(`${flag}: a whole number >= ${min}, not ${value}`);
  return n;
}

function choice<T extends string>(
  value: string | undefined,
  flag: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw usage(`${flag}: ${allowed.join(', ')}, not ${value}`);
  return value as T;
}

/** `zone=east` pairs into one label map (a later pair wins). */
function labels(given: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of given) {
    const at = pair.indexOf('=');
    if (at <= 0) throw usage(`${flag} ${pair}: expected name=value`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

type Deployment = ClusterStatus['deployments'][number];

const pairs = (map: Readonly<Record<string, string | number>> | undefined): string =>
  Object.entries(map ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || '—';

function describeDeployment(d: Omit<Deployment, 'placement' | 'unplaced'>, dataDir: string): string {
  const extras = [
    d.spread,
    `rollout ${d.rollout}`,
    d.maxPerHost === undefined ? undefined : `at most ${d.maxPerHost} per host`,
    d.affinity === undefined ? undefined : `affinity ${pairs(d.affinity)}`,
    d.bakeMs === undefined ? undefined : `bake ${d.bakeMs} ms`,
    d.state === 'replicated' ? 'replicated state' : undefined,
  ].filter((x) => x !== undefined);
  return (
    `declared ${d.address}: ${d.component}@${d.version}, ${d.instances} instance(s), ${extras.join(', ')}\n` +
    `each host now places its share: airssys-wasm cluster status --data-dir ${dataDir}\n`
  );
}

function describeStatus(status: ClusterStatus): string {
  const out = [`cluster ${status.name}, this host ${status.self}`, ''];
  const hosts = [...status.hosts].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  out.push(
    formatTable(
      ['HOST', 'CAPACITY', 'LABELS', 'LAST SEEN', 'SERVES'],
      hosts.map((h) => [
        h.self ? `${h.id} (this host)` : h.id,
        String(h.capacity),
        pairs(h.labels),
        `${h.lastSeenMs} ms`,
        Object.entries(h.addresses)
          .map(([address, r]) => `${address}@${r.versions.join('+') || '—'} ×${r.instances}`)
          .join(', ') || '—',
      ]),
    ),
  );
  if (status.deployments.length === 0)
    out.push('no cluster deployments (airssys-wasm cluster deploy <component>)\n');
  else {
    out.push(
      formatTable(
        ['ADDRESS', 'VERSION', 'INSTANCES', 'ROLLOUT', 'PLACEMENT', 'UNPLACED', 'UPDATED'],
        status.deployments.map((d) => [
          d.address,
          `${d.component}@${d.version}`,
          String(d.instances),
          d.rollout,
          pairs(d.placement),
          String(d.unplaced),
          formatTime(d.updatedAt),
        ]),
      ),
    );
  }
  if (status.progress.length > 0) {
    out.push(`progress on ${status.self}:`);
    for (const p of status.progress) {
      out.push(`  ${p.address}: ${p.phase}, ${p.want} instance(s) here${p.detail ? ` — ${p.detail}` : ''}`);
    }
    out.push('');
  }
  const link = status.link;
  out.push(
    `link: ${link.framesOut} frames out, ${link.framesIn} in, ${link.refused} refused, ${link.dropped} dropped\n`,
  );
  return out.join('\n');
}
