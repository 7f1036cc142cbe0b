/**
 * The admin HTTP API (Fastify): everything an operator or the CLI does to a running host.
 * `/livez` and `/readyz` are open (probes); the dashboard page at `/` is open and asks for the
 * token; everything under `/v1` needs `Authorization: Bearer <token>` (the SSE stream also takes
 * `?token=`, since a browser's EventSource cannot set headers). Errors are
 * `{ ok: false, error: { code, message } }` with a status that matches the code.
 */

import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Cluster } from '../cluster/cluster.js';
import { ROLLOUT_KINDS } from '../cluster/cluster-deployments.js';
import type { Deployer } from '../deploy/deployer.js';
import type { StrategySpec } from '../deploy/strategies/types.js';
import type { JobReply, JobRequest } from '../host/command-actor.js';
import type { ComponentHost } from '../host/host.js';
import { permissionsToml, suggestPermissions } from '../host/permissions.js';
import { AirssysError, type ErrorCode, isAirssysError } from '../shared/errors.js';
import { componentKind } from '../wasm/engine/world.js';
import { auditQuery } from './audit-query.js';
import type { EventHub } from './event-hub.js';
import type { HttpGateway } from './http-gateway.js';
import { DaemonMetrics } from './metrics.js';
import { type Operators, operationOf } from './operators.js';

export interface ApiContext {
  host: ComponentHost;
  deployer: Deployer;
  events: EventHub;
  operators: Operators;
  /** Set when the host is a member of a cluster (`host --cluster`). */
  cluster?: Cluster;
  /** Set when the host serves wasi:http components (`host --http-listen`). */
  http?: HttpGateway | undefined;
  info: () => { version: string; threads: number; dataDir: string; startedAt: number; uptimeMs: number };
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  'invalid-argument': 400,
  'invalid-manifest': 400,
  'invalid-component': 400,
  'signature-invalid': 400,
  'unsupported-runtime': 501,
  'capability-denied': 403,
  'not-found': 404,
  'mailbox-full': 429,
  timeout: 504,
};

/** Audit records a suggestion reads: a learn run's refusals are few and recorded once each. */
const SUGGEST_RECORDS = 100_000;

/** Largest request body (a component payload is capped by the host anyway). */
const BODY_LIMIT = 2 * 1024 * 1024;

let dashboard: string | undefined;
function dashboardPage(): string {
  // Read once, lazily: the page ships beside the compiled daemon (dist/daemon, dist/cli).
  dashboard ??= readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8');
  return dashboard;
}

/** The caller's W3C trace context: the message joins its trace (an invalid header is ignored). */
function traceparentOf(request: FastifyRequest): string | undefined {
  const header = request.headers.traceparent;
  return typeof header === 'string' ? header : undefined;
}

export async function buildApi(ctx: ApiContext): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });
  const { host, deployer, events } = ctx;

  app.setErrorHandler((error, _request, reply) => {
    // Fastify's own 4xx (bad JSON, body too large, wrong content type) are the caller's mistakes.
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const failure = isAirssysError(error)
      ? error
      : new AirssysError(
          status >= 400 && status < 500 ? 'invalid-argument' : 'internal',
          (error as Error).message,
        );
    // Fastify's own statuses say more than 400 (413 body too large, 415 wrong content type).
    const code =
      !isAirssysError(error) && status >= 400 && status < 500 ? status : (STATUS[failure.code] ?? 500);
    void reply.code(code).send({ ok: false, error: failure.toJSON() });
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.url.startsWith('/v1/')) return;
    const header = request.headers.authorization;
    const presented = header?.startsWith('Bearer ')
      ? header.slice(7).trim()
      : (request.query as { token?: string } | undefined)?.token;
    const operator = ctx.operators.identify(presented);
    if (operator === undefined) {
      await reply.code(401).send({
        ok: false,
        error: {
          code: 'capability-denied',
          message: 'missing or wrong bearer token; it is in <data-dir>/admin-token',
        },
      });
      return;
    }
    // Throws capability-denied (403, audited) when the operator's roles do not allow the route.
    ctx.operators.authorize(operator, operationOf(request.method, request.routeOptions.url ?? request.url));
  });

  app.get('/livez', async () => ({ ok: true }));
  app.get('/readyz', async () => ({ ok: true, addresses: host.addresses().length }));
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(dashboardPage()));

  app.get('/v1/status', async () => {
    const status = await deployer.status();
    const addresses = [];
    for (const address of host.addresses())
      addresses.push({ address, versions: await host.versions(address) });
    return { ok: true, host: ctx.info(), addresses, deployments: status.deployments };
  });

  // Without each version's manifest text: a listing of 1,000 versions stays small (the
  // dashboard's first paint waits for it); the registry and `airssys-wasm list` have the full record.
  app.get('/v1/components', async () => ({
    ok: true,
    versions: deployer.registry.list().map(({ manifestText: _text, ...version }) => version),
  }));

  app.post('/v1/components', async (request) => {
    const body = objectBody(request.body);
    if (typeof body.path === 'string') return { ok: true, version: await deployer.install(body.path) };
    if (typeof body.url === 'string' && typeof body.sha256 === 'string') {
      return { ok: true, version: await deployer.install({ url: body.url, sha256: body.sha256 }) };
    }
    throw new AirssysError(
      'invalid-argument',
      'body: expected { path } (a folder on the host) or { url, sha256 }',
    );
  });

  app.get('/v1/deployments', async () => ({ ok: true, deployments: deployer.deployments.list() }));

  app.post('/v1/deployments', async (request) => {
    const body = objectBody(request.body);
    if (typeof body.name !== 'string')
      throw new AirssysError('invalid-argument', 'body.name: expected a component name');
    const outcome = await deployer.deploy(body.name, {
      version: optionalString(body.version, 'version'),
      address: optionalString(body.address, 'address'),
      strategy: body.strategy as StrategySpec | undefined,
      instances: body.instances as number | undefined,
      acceptPermissions: body.acceptPermissions === true,
    });
    return { ok: true, ...summary(outcome) };
  });

  app.post('/v1/rollback', async (request) => {
    const body = objectBody(request.body);
    if (typeof body.address !== 'string')
      throw new AirssysError('invalid-argument', 'body.address: expected an address');
    const outcome = await deployer.rollback(body.address, {
      version: optionalString(body.version, 'version'),
    });
    return { ok: true, ...summary(outcome) };
  });

  app.delete('/v1/addresses/:address', async (request) => {
    const { address } = request.params as { address: string };
    await deployer.stop(address);
    return { ok: true };
  });

  app.post('/v1/addresses/:address/send', async (request) => {
    const { address } = request.params as { address: string };
    const { value, codec } = payloadOf(request.body);
    host.send(address, value, { codec, traceparent: traceparentOf(request) });
    return { ok: true };
  });

  app.post('/v1/addresses/:address/request', async (request) => {
    const { address } = request.params as { address: string };
    const body = objectBody(request.body);
    const { value, codec } = payloadOf(body);
    try {
      const reply = await host.request(address, value, {
        codec,
        timeoutMs: body.timeoutMs as number | undefined,
        traceparent: traceparentOf(request),
      });
      const text = decodeText(reply.payload);
      return {
        ok: true,
        sender: reply.sender,
        codec: reply.codec,
        text,
        value: reply.value instanceof Uint8Array ? undefined : reply.value,
      };
    } catch (error) {
      // The component's answer, even an error, is the result of this call: 200 with ok:false.
      if (isAirssysError(error) && error.code !== 'invalid-argument')
        return { ok: false, error: error.toJSON() };
      throw error;
    }
  });

  app.post('/v1/addresses/:address/run', async (request) => {
    const { address } = request.params as { address: string };
    const body = objectBody(request.body);
    requireCommand(host, address);
    const job: JobRequest = {
      args: optionalStringList(body.args, 'args'),
      env: optionalStringTable(body.env, 'env'),
      ...(body.stdin === undefined
        ? {}
        : { stdin: Buffer.from(requiredString(body.stdin, 'stdin'), 'utf8') }),
    };
    try {
      const { value } = await host.request<JobReply>(address, job, {
        codec: 'cbor',
        timeoutMs: body.timeoutMs as number | undefined,
        traceparent: traceparentOf(request),
      });
      events.emit({
        type: 'job',
        address,
        status: value.status,
        fuel: value.fuel,
        ms: value.ms,
        at: Date.now(),
      });
      return { ok: true, status: value.status, fuel: value.fuel, ms: value.ms };
    } catch (error) {
      if (!isAirssysError(error) || error.code === 'invalid-argument') throw error;
      events.emit({ type: 'job', address, error: error.code, at: Date.now() });
      // As for a request: the run's failure is its result.
      return { ok: false, error: error.toJSON() };
    }
  });

  app.get('/v1/http/routes', async () => ({
    ok: true,
    url: ctx.http?.url,
    routes: ctx.http?.routes.list() ?? [],
  }));

  app.get('/v1/cluster', async () => ({ ok: true, cluster: clusterOf(ctx).status() }));

  app.put('/v1/cluster/deployments/:address', async (request) => {
    const cluster = clusterOf(ctx);
    const { address } = request.params as { address: string };
    const body = objectBody(request.body);
    const component = optionalString(body.component, 'component') ?? address;
    const deployment = await cluster.deploy({
      component,
      address,
      version: optionalString(body.version, 'version'),
      instances: optionalInteger(body.instances, 'instances'),
      spread: optionalChoice(body.spread, 'spread', ['spread', 'pack'] as const),
      rollout: optionalChoice(body.rollout, 'rollout', ROLLOUT_KINDS),
      bakeMs: optionalInteger(body.bakeMs, 'bakeMs'),
      state: optionalChoice(body.state, 'state', ['per-host', 'replicated'] as const),
      maxPerHost: optionalInteger(body.maxPerHost, 'maxPerHost'),
      affinity: optionalStringTable(body.affinity, 'affinity'),
      acceptPermissions: body.acceptPermissions === true,
    });
    const { manifestText: _text, signature: _sig, ...shown } = deployment;
    return { ok: true, deployment: shown };
  });

  app.delete('/v1/cluster/deployments/:address', async (request) => {
    await clusterOf(ctx).undeploy((request.params as { address: string }).address);
    return { ok: true };
  });

  app.get('/v1/audit', async (request) => ({ ok: true, records: host.audit(auditQuery(request.query)) }));

  app.get('/v1/audit/suggest', async (request) => {
    const { component } = request.query as { component?: string };
    if (typeof component !== 'string' || component === '')
      throw new AirssysError('invalid-argument', 'query component: expected a component name');
    const lists = suggestPermissions(host.audit({ component, limit: SUGGEST_RECORDS }));
    return { ok: true, component, permissions: lists, toml: permissionsToml(lists) };
  });

  app.get('/v1/logs', async (request) => {
    const limit = Number((request.query as { limit?: string }).limit ?? 100);
    return {
      ok: true,
      events: events.last(Number.isFinite(limit) ? Math.min(Math.max(limit, 1), 500) : 100),
    };
  });

  const metrics = new DaemonMetrics();
  app.get('/v1/metrics', async (_request, reply) => {
    const addresses = [];
    for (const address of host.addresses())
      addresses.push({ address, versions: await host.versions(address) });
    const text = await metrics.render({
      uptimeMs: ctx.info().uptimeMs,
      addresses,
      deployments: deployer.deployments.list(),
      http: ctx.http?.counts(),
    });
    return reply.type(metrics.contentType).send(text);
  });

  app.get('/v1/events', (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const write = (event: unknown) => res.write(`data: ${JSON.stringify(event)}\n\n`);
    for (const event of events.last(50)) write(event);
    const stop = events.watch(write);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      stop();
      clearInterval(keepAlive);
    });
  });

  await app.ready();
  return app;
}

function clusterOf(ctx: ApiContext): Cluster {
  if (ctx.cluster === undefined) {
    throw new AirssysError(
      'not-found',
      'this host is not in a cluster; start it with --cluster nats://… (see docs/cluster.md)',
    );
  }
  return ctx.cluster;
}

function optionalInteger(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new AirssysError('invalid-argument', `${field}: expected a whole number`, { details: { field } });
  }
  return value;
}

function optionalChoice<T extends string>(
  value: unknown,
  field: string,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly unknown[]).includes(value)) {
    throw new AirssysError('invalid-argument', `${field}: expected one of ${choices.join(', ')}`, {
      details: { field },
    });
  }
  return value as T;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AirssysError(
      'invalid-argument',
      'expected a JSON object body (content-type: application/json)',
    );
  }
  return body as Record<string, unknown>;
}

/** Jobs run on `wasi:cli/command` components only: an actor would take the job for a message. */
function requireCommand(host: ComponentHost, address: string): void {
  const live = [...host.routing(address)].sort((a, b) => b.weight - a.weight)[0];
  if (live === undefined || componentKind(host.componentOf(address, live.version)) === 'command') return;
  throw new AirssysError(
    'invalid-argument',
    `${address} is not a wasi:cli/command component: send it a message with \`call\` instead, or deploy a command there`,
    { details: { address } },
  );
}

function optionalStringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new AirssysError('invalid-argument', `body.${field}: expected an array of strings`, {
      details: { field },
    });
  return value;
}

function optionalStringTable(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !Object.values(value).every((v) => typeof v === 'string')
  )
    throw new AirssysError('invalid-argument', `body.${field}: expected an object of name → value strings`, {
      details: { field },
    });
  return value as Record<string, string>;
}

function requiredString(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  throw new AirssysError('invalid-argument', `body.${field}: expected a string`, { details: { field } });
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  throw new AirssysError('invalid-argument', `body.${field}: expected a string`);
}

/** `{ payload: string, codec?: 'raw' | 'json' }`: raw sends the text's UTF-8, json the payload parsed. */
function payloadOf(body: unknown): { value: unknown; codec: 'raw' | 'json' } {
  const b = objectBody(body);
  const codec = b.codec ?? 'raw';
  if (codec !== 'raw' && codec !== 'json')
    throw new AirssysError('invalid-argument', "body.codec: 'raw' or 'json'");
  if (typeof b.payload !== 'string')
    throw new AirssysError('invalid-argument', 'body.payload: expected a string');
  if (codec === 'raw') return { value: b.payload, codec };
  try {
    return { value: JSON.parse(b.payload), codec };
  } catch (error) {
    throw new AirssysError('invalid-argument', `body.payload is not JSON: ${(error as Error).message}`);
  }
}

function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function summary(outcome: { id: string; status: string; message: string; rolledBack: boolean }) {
  return { id: outcome.id, status: outcome.status, message: outcome.message, rolledBack: outcome.rolledBack };
}
