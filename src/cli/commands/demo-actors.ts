/**
 * The actor half of `airssys-wasm demo`: the C example components run as supervised actors in
 * one host (in this thread, storage in memory) and talk by messages — a counter that survives
 * its own trap, a pipeline of three stages, a deferred request, a publication fanned out, and a
 * flood pushed back. Each step reports what happened and whether that was what should happen.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ComponentHost } from '../../host/host.js';
import { isAirssysError } from '../../shared/errors.js';
import type { Component, Engine } from '../../wasm/engine/engine.js';
import { parseManifest } from '../../wasm/manifest/parse.js';

/** One line of the demo's table: what ran, what came out, whether that was what should. */
export interface DemoRow {
  component: string;
  call: string;
  outcome: string;
  fuel: number;
  ms: number;
  note: string;
  asExpected: boolean;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The fixture `base` under another name, config and permissions (same binary, compiled once). */
async function configured(
  engine: Engine,
  dir: string,
  base: string,
  name: string,
  config: Record<string, string>,
  permissions: string[],
): Promise<Component> {
  const bytes = await readFile(join(dir, base, 'component.wasm'));
  const manifest = parseManifest(
    [
      '[component]',
      `name = "${name}"`,
      'version = "0.1.0"',
      'wasm = "component.wasm"',
      '[resources]',
      'memory = "1MiB"',
      'mailbox = 16',
      '[permissions]',
      ...permissions,
      '[config]',
      ...Object.entries(config).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
    ].join('\n'),
    { baseDir: join(dir, base) },
  );
  return engine.compile(bytes, manifest);
}

export async function actorRows(engine: Engine, dir: string): Promise<DemoRow[]> {
  const rows: DemoRow[] = [];
  const host = await ComponentHost.create({ threads: 0 });
  const step = async (
    component: string,
    call: string,
    note: string,
    expected: string,
    run: () => Promise<string>,
  ) => {
    const started = performance.now();
    let outcome: string;
    try {
      outcome = await run();
    } catch (error) {
      outcome = isAirssysError(error) ? error.code : String(error);
    }
    rows.push({
      component,
      call,
      outcome,
      fuel: 0,
      ms: performance.now() - started,
      note,
      asExpected: outcome === expected,
    });
  };
  const ask = async (target: string, payload: string) => text((await host.request(target, payload)).payload);
  const SEND = 'messaging = { send = [">"] }';
  try {
    await host.start(await engine.load(join(dir, 'counter')));
    await host.start(await configured(engine, dir, 'echo', 'echo', {}, []));
    await host.start(
      await configured(engine, dir, 'stage', 'sink', { sink: 'yes' }, [
        SEND,
        'storage = { namespaces = ["stage"] }',
      ]),
    );
    await host.start(await configured(engine, dir, 'stage', 'middle', { next: 'sink', tag: '→b' }, [SEND]));
    await host.start(await configured(engine, dir, 'stage', 'front', { next: 'middle', tag: '→a' }, [SEND]));
    await host.start(await configured(engine, dir, 'requester', 'asker', { peer: 'echo' }, [SEND]));
    for (const name of ['sub-1', 'sub-2']) {
      await host.start(
        await configured(engine, dir, 'subscriber', name, { pattern: 'news.>' }, [
          'messaging = { subscribe = ["news.>"] }',
          'storage = { namespaces = ["sub"] }',
        ]),
      );
    }
    await host.start(await engine.load(join(dir, 'flooder')));

    await step('counter', 'request inc ×3', 'count kept in storage', '3', async () => {
      await ask('counter', 'inc');
      await ask('counter', 'inc');
      return ask('counter', 'inc');
    });
    await step('counter', 'request boom', 'trap: the supervisor restarts it', 'trap', () =>
      ask('counter', 'boom'),
    );
    await step('counter', 'request get', 'state survived the restart', '3', () => ask('counter', 'get'));
    await step('front', 'send "m"', 'front → middle → sink, stored', 'm→a→b', async () => {
      host.send('front', 'm');
      await new Promise((r) => setImmediate(r));
      const ns = host.storage!.namespace('sink.stage');
      const [key] = ns.listPrefix('m/').keys;
      return key === undefined ? 'nothing stored' : text(ns.get(key)!);
    });
    await step('asker', 'request "ping"', 'deferred: asks echo, replies later', 're:ping', () =>
      ask('asker', 'ping'),
    );
    await step('sub-1, sub-2', 'publish news.today', 'fanned out to both', '2 of 2', async () => {
      host.publish('news.today', 'hello');
      await new Promise((r) => setImmediate(r));
      const got = ['sub-1', 'sub-2'].filter(
        (n) => host.storage!.namespace(`${n}.sub`).get('count') !== undefined,
      );
      return `${got.length} of 2`;
    });
    await step('flooder', 'flood echo 1000', 'mailbox of 16 pushes back', 'sent 16 mailbox-full', () =>
      ask('flooder', 'flood echo 1000'),
    );
    await step('nobody', 'send', 'no such address', 'not-found', async () => {
      host.send('nobody', 'x');
      return 'sent';
    });
  } finally {
    await host.close();
  }
  return rows;
}
