// `[http]`: the routes the daemon serves a wasi:http component at, its body limit and instance reuse.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AirssysError } from '../../src/shared/errors.js';
import { checkRoute, parseManifest } from '../../src/wasm/manifest/index.js';

const baseDir = path.resolve('/srv/components/hello');
const manifest = (http: string) =>
  `[component]\nname = "hello"\nversion = "1.0.0"\n\n[resources]\nmemory = "1MiB"\n\n[http]\n${http}\n`;

function fieldError(text: string): { field: unknown; message: string } {
  try {
    parseManifest(text, { baseDir });
  } catch (error) {
    if (error instanceof AirssysError && error.code === 'invalid-manifest')
      return { field: error.details?.field, message: error.message };
    throw error;
  }
  throw new Error('expected invalid-manifest');
}

describe('[http]', () => {
  it('defaults to no routes, a 1 MiB body and a fresh instance per request', () => {
    const parsed = parseManifest(manifest(''), { baseDir });
    expect(parsed.http).toEqual({ routes: [], maxBodyBytes: 1024 * 1024, reuseInstance: false });
  });

  it('takes exact and prefix routes, a body size and reuse-instance', () => {
    const parsed = parseManifest(
      manifest(
        'routes = ["/hello", "/api/...", "/...", "/a/b-c/~x.y"]\nmax-body = "64KiB"\nreuse-instance = true',
      ),
      { baseDir },
    );
    expect(parsed.http).toEqual({
      routes: ['/hello', '/api/...', '/...', '/a/b-c/~x.y'],
      maxBodyBytes: 64 * 1024,
      reuseInstance: true,
    });
  });

  it.each([
    ['hello', /does not start with "\/"/],
    ['/a//b', /empty segment/],
    ['/a/', /empty segment/],
    ['/a/../b', /has a "\.\." segment/],
    ['/a/.../b', /"\.\.\." somewhere other than the last segment/],
    ['/a?x=1', /not allowed in a URL path/],
    ['/a#b', /not allowed in a URL path/],
    ['/ space', /not allowed in a URL path/],
    [`/${'x'.repeat(300)}`, /characters long/],
  ])('refuses the route %s', (route, why) => {
    expect('reason' in checkRoute(route) ? checkRoute(route) : undefined).toMatchObject({
      reason: expect.stringMatching(why),
    });
    const error = fieldError(manifest(`routes = [${JSON.stringify(route)}]`));
    expect(error.field).toBe('http.routes[0]');
  });

  it('names the field of every other mistake', () => {
    expect(fieldError(manifest('routes = "/hello"')).message).toMatch(/wrap it in brackets/);
    expect(fieldError(manifest('routes = ["/a", "/a"]')).message).toMatch(/listed twice/);
    expect(fieldError(manifest('max-body = "1GiB"'))).toMatchObject({
      field: 'http.max-body',
      message: expect.stringMatching(/above the maximum of 64MiB/),
    });
    expect(fieldError(manifest('reuse-instance = "yes"')).field).toBe('http.reuse-instance');
    expect(fieldError(manifest('route = ["/a"]')).message).toMatch(/did you mean "routes"/);
    const many = Array.from({ length: 65 }, (_, i) => `"/r${i}"`).join(', ');
    expect(fieldError(manifest(`routes = [${many}]`)).message).toMatch(/at most 64/);
  });
});
