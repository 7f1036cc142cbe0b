/**
 * `airssys-wasm audit [component]`: the host's capability decisions — through the running
 * host's admin API, or straight from `<data-dir>/audit.db` when no host runs (a post-mortem
 * must not need the host it examines). `--suggest` prints the least-privilege `[permissions]`
 * that would have allowed what the component was refused (learn mode).
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { permissionsToml, suggestPermissions } from '../../host/permissions.js';
import type { AuditQuery, AuditRecord } from '../../osl/audit/audit-log.js';
import { SqliteAuditLog } from '../../osl/audit/sqlite-audit-log.js';
import { isAirssysError } from '../../shared/errors.js';
import { adminCall } from '../admin-client.js';
import { EXIT_OK, printJson, reportError, usage } from '../output.js';
import { type DataDirFlags, existingDataDir, withDataDirOptions } from './install.js';

interface AuditFlags extends DataDirFlags {
  decision?: string;
  operation?: string;
  since?: string;
  until?: string;
  limit: string;
  suggest?: boolean;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m`, `2h`, `1d` ago, or an ISO date / epoch milliseconds. */
function when(value: string, flag: string): number {
  const ago = /^(\d+)([smhd])$/.exec(value);
  if (ago) return Date.now() - Number(ago[1]) * UNITS[ago[2]];
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw usage(`${flag}: a duration ago (30m, 2h, 1d) or an ISO date, not ${value}`);
  return ms;
}

export function registerAudit(program: Command): void {
  withDataDirOptions(
    program
      .command('audit')
      .description("print the host's capability decisions (newest first), or suggest permissions")
      .argument('[component]', 'only this component')
      .option('--decision <allow|deny>', 'only allowed or only refused operations')
      .option('--operation <op>', 'only this operation (fs.read-file, net.fetch, messaging.send, …)')
      .option('--since <when>', 'from: a duration ago (30m, 2h, 1d) or an ISO date')
      .option('--until <when>', 'until (exclusive): a duration ago or an ISO date')
      .option('--limit <n>', 'at most this many records', '100')
      .option('--suggest', 'print the least-privilege [permissions] that would have allowed the refusals'),
  ).action(async (component: string | undefined, flags: AuditFlags) => {
    try {
      if (flags.decision !== undefined && flags.decision !== 'allow' && flags.decision !== 'deny')
        throw usage(`--decision: allow or deny, not ${flags.decision}`);
      if (flags.suggest && component === undefined) throw usage('--suggest needs a component');
      const limit = Number(flags.limit);
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= 10_000))
        throw usage('--limit: a whole number 1..10000');
      const query: AuditQuery = {
        component,
        decision: flags.decision as AuditQuery['decision'],
        operation: flags.operation,
        since: flags.since === undefined ? undefined : when(flags.since, '--since'),
        until: flags.until === undefined ? undefined : when(flags.until, '--until'),
        limit: flags.suggest ? 10_000 : limit,
      };
      const records = await read(flags.dataDir, query);
      if (flags.suggest) {
        const permissions = suggestPermissions(records);
        const empty = Object.keys(permissions).length === 0;
        if (flags.json) printJson({ ok: true, component, permissions, toml: permissionsToml(permissions) });
        else if (empty) process.stdout.write(`# ${component}: no refusal a grant would lift\n`);
        else {
          process.stdout.write(
            `# least-privilege grants for what ${component} was refused; add to its Component.toml:\n`,
          );
          process.stdout.write(permissionsToml(permissions));
        }
      } else if (flags.json) printJson({ ok: true, records });
      else for (const r of records) process.stdout.write(`${line(r)}\n`);
      process.exitCode = EXIT_OK;
    } catch (error) {
      process.exitCode = reportError(error, flags.json ?? false);
    }
  });
}

async function read(dataDir: string, query: AuditQuery): Promise<AuditRecord[]> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  try {
    const doc = await adminCall(dataDir, 'GET', `/v1/audit?${params}`);
    return doc.records as AuditRecord[];
  } catch (error) {
    // No host running: read the log it left behind (WAL lets this run beside a live host too).
    const file = join(existingDataDir(dataDir), 'audit.db');
    if (!(isAirssysError(error) && error.code === 'not-found') || !existsSync(file)) throw error;
    const log = new SqliteAuditLog({ path: file });
    try {
      return log.query(query);
    } finally {
      log.close();
    }
  }
}

function line(r: AuditRecord): string {
  const version = r.version.length > 12 ? r.version.slice(0, 12) : r.version;
  const why = r.decision === 'deny' ? ` — ${r.reason}` : '';
  return `${new Date(r.time).toISOString()} ${r.decision.padEnd(5)} ${r.component}@${version} ${r.operation} ${r.subject}${why}`;
}
