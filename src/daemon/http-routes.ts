/**
 * Which deployed component answers an HTTP path: the `[http] routes` of every `wasi:http/proxy`
 * component the host runs. A route is an exact path (`/hello`) or a prefix (`/api/...`, which
 * also matches `/api` itself); an exact route wins over a prefix, and a longer prefix over a
 * shorter one. The table is rebuilt only when what the host serves changed (an address, a
 * version or a weight), so a request costs one lookup.
 */

import type { ComponentHost } from '../host/host.js';
import type { HttpSection } from '../wasm/manifest/schema.js';

export interface RouteMatch {
  readonly route: string;
  readonly address: string;
  readonly http: HttpSection;
  /** `[resources] timeout-ms` of the version serving it, for the request's deadline. */
  readonly timeoutMs: number;
}

export class HttpRoutes {
  private key = '';
  private exact = new Map<string, RouteMatch>();
  /** Prefix routes without their `/...`, longest first. */
  private prefixes: [string, RouteMatch][] = [];

  constructor(private readonly host: ComponentHost) {}

  /** The route serving `path` (no query string), or undefined. */
  match(path: string): RouteMatch | undefined {
    this.refresh();
    const exact = this.exact.get(path);
    if (exact !== undefined) return exact;
    for (const [prefix, match] of this.prefixes) {
      if (path === prefix || path.startsWith(prefix === '' ? '/' : `${prefix}/`)) return match;
    }
    return undefined;
  }

  /** Every route with its address, for the admin API and the dashboard. */
  list(): { route: string; address: string }[] {
    this.refresh();
    const all = [...this.exact.values(), ...this.prefixes.map(([, m]) => m)];
    return all.map(({ route, address }) => ({ route, address })).sort((a, b) => (a.route < b.route ? -1 : 1));
  }

  private refresh(): void {
    const serving = this.host
      .addresses()
      .map((address) => ({ address, versions: this.host.routing(address) }));
    const key = JSON.stringify(serving);
    if (key === this.key) return;
    this.key = key;
    this.exact = new Map();
    const prefixes = new Map<string, RouteMatch>();
    for (const { address, versions } of serving.sort((a, b) => (a.address < b.address ? -1 : 1))) {
      // The routes of the version taking the most traffic: during a blue-green switch both
      // versions serve the address, and the host's weights choose between them per request.
      const live = [...versions].sort((a, b) => b.weight - a.weight)[0];
      if (live === undefined) continue;
      const { manifest } = this.host.componentOf(address, live.version);
      for (const route of manifest.http.routes) {
        const match = { route, address, http: manifest.http, timeoutMs: manifest.resources.timeoutMs };
        // Install refuses a route two components claim; two addresses of one component may
        // still share one: the first address by name keeps it.
        if (route.endsWith('/...')) {
          const prefix = route.slice(0, -4);
          if (!prefixes.has(prefix)) prefixes.set(prefix, match);
        } else if (!this.exact.has(route)) this.exact.set(route, match);
      }
    }
    this.prefixes = [...prefixes].sort((a, b) => b[0].length - a[0].length);
  }
}
