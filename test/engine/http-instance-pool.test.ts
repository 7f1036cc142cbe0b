// The fresh-instance pool of IncomingHandler and the engine's recycled memories, on the
// wat-http-hello fixture (a WAT handler whose /count answers how many requests its instance
// has handled: 1 in a fresh instance). Build it with `node scripts/build-fixtures.mjs wat-http-hello`.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { hasJspi } from '../../src/shared/node-runtime.js';
import { type Component, Engine } from '../../src/wasm/engine/engine.js';
import type { HostImports } from '../../src/wasm/engine/link.js';
import { IncomingHandler } from '../../src/wasm/wasi/http/incoming-handler.js';
import type { RequestData } from '../../src/wasm/wasi/http/request.js';
import type { ResponseTarget } from '../../src/wasm/wasi/http/response.js';
import { wasiImports } from '../../src/wasm/wasi/index.js';
import { fixture } from '../support/fixtures.js';

async function load(): Promise<Component> {
  return new Engine({ cacheDir: false }).load(fixture('wat-http-hello'));
}

function get(path: string): RequestData {
  return {
    method: 'GET',
    pathWithQuery: path,
    scheme: 'http',
    authority: 'localhost',
    headers: [],
    body: new Uint8Array(),
    trailers: [],
  };
}

/** Runs one request; resolves the status and body text. */
function send(handler: IncomingHandler, path: string): { status: number; body: string; ok: boolean } {
  let status = 0;
  let body = '';
  const target: ResponseTarget = {
    start: (s) => {
      status = s;
    },
    write: (bytes) => {
      body += Buffer.from(bytes).toString();
    },
    end: () => {},
  };
  const outcome = handler.handle(get(path), target);
  return { status, body, ok: outcome.ok };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

let handlers: IncomingHandler[] = [];
afterEach(() => {
  for (const h of handlers) h.close();
  handlers = [];
});

function handlerFor(component: Component, options: ConstructorParameters<typeof IncomingHandler>[1] = {}) {
  const handler = new IncomingHandler(component, options);
  handlers.push(handler);
  return handler;
}

describe('IncomingHandler: a pool of fresh instances', () => {
  it('prepare() fills the pool, and a request takes an instance from it without instantiating', async () => {
    const component = await load();
    const instantiate = vi.spyOn(component, 'instantiate');
    const handler = handlerFor(component, { poolSize: 3 });
    handler.prepare();
    expect(instantiate).toHaveBeenCalledTimes(3);
    expect(send(handler, '/').body).toBe('hello world');
    expect(instantiate).toHaveBeenCalledTimes(3);
  });

  it('refills off the request path, one instance per turn of the event loop, up to the pool size', async () => {
    const component = await load();
    const instantiate = vi.spyOn(component, 'instantiate');
    const handler = handlerFor(component, { poolSize: 2 });
    handler.prepare();
    send(handler, '/');
    send(handler, '/');
    expect(instantiate).toHaveBeenCalledTimes(2);
    await turn();
    expect(instantiate).toHaveBeenCalledTimes(3);
    await turn();
    await turn();
    expect(instantiate).toHaveBeenCalledTimes(4);
  });

  it('a request never sees an instance another request used, pooled, refilled or not', async () => {
    const component = await load();
    const handler = handlerFor(component, { poolSize: 2 });
    handler.prepare();
    const counts: string[] = [];
    for (let i = 0; i < 4; i++) counts.push(send(handler, '/count').body);
    await turn();
    for (let i = 0; i < 3; i++) {
      counts.push(send(handler, '/count').body);
      await turn();
    }
    expect(counts).toEqual(['1', '1', '1', '1', '1', '1', '1']);
  });

  it('poolSize 0 instantiates on the request path, still fresh each time', async () => {
    const component = await load();
    const handler = handlerFor(component, { poolSize: 0 });
    handler.prepare();
    expect([send(handler, '/count').body, send(handler, '/count').body]).toEqual(['1', '1']);
  });

  it('after a trap the next request gets a fresh instance and is answered', async () => {
    const component = await load();
    const handler = handlerFor(component);
    handler.prepare();
    expect(send(handler, '/trap').ok).toBe(false);
    expect(send(handler, '/count')).toEqual({ status: 200, body: '1', ok: true });
  });

  it('reuseInstance keeps one instance: its counter goes on, and no pool is made', async () => {
    const component = await load();
    const instantiate = vi.spyOn(component, 'instantiate');
    const handler = handlerFor(component, { reuseInstance: true, poolSize: 4 });
    handler.prepare();
    expect([1, 2, 3].map(() => send(handler, '/count').body)).toEqual(['1', '2', '3']);
    await turn();
    expect(instantiate).toHaveBeenCalledTimes(1);
  });
});

describe('engine: memories of disposed instances', () => {
  it('a disposed instance refuses every call', async () => {
    const component = await load();
    const handler = handlerFor(component, { poolSize: 0 });
    handler.prepare();
    const http = (handler as unknown as { imports: HostImports }).imports;
    const instance = component.instantiate({ ...wasiImports(), ...http });
    instance.dispose();
    const outcome = instance.invoke('wasi:http/incoming-handler@0.2.0#handle', [undefined, undefined]);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.message).toMatch(/disposed/);
    expect(instance.memoryBytes).toBe(0);
  });

  it("a new instance gets a disposed one's memory zeroed, not a copy of what the guest left", async () => {
    const component = await load();
    const handler = handlerFor(component, { reuseInstance: true });
    handler.prepare();
    send(handler, '/count');
    send(handler, '/count');
    handler.close();
    // The instance with the counter at 2 was disposed: its memory serves the next instance.
    const fresh = handlerFor(component, { poolSize: 0 });
    expect(send(fresh, '/count').body).toBe('1');
  });
});

describe.runIf(hasJspi())('IncomingHandler on JSPI', () => {
  it('answers through handleAsync from the same pool, and refuses the call of the other mode', async () => {
    const component = await load();
    const handler = handlerFor(component, { jspi: true, reuseInstance: true });
    handler.prepare();
    let body = '';
    const target: ResponseTarget = {
      start: () => {},
      write: (bytes) => {
        body += Buffer.from(bytes).toString();
      },
      end: () => {},
    };
    const outcome = await handler.handleAsync(get('/count'), target);
    expect(outcome.ok).toBe(true);
    expect(body).toBe('1');
    body = '';
    await handler.handleAsync(get('/count'), target);
    expect(body).toBe('2'); // the kept instance
    expect(() => handler.handle(get('/count'), target)).toThrow(/handleAsync/);
    const sync = handlerFor(component);
    await expect(sync.handleAsync(get('/count'), target)).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
