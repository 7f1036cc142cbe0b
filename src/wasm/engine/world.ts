/**
 * Which of the worlds a host runs a component belongs to, judged by what its binary exports, and
 * the check of a manifest's declared `world` against it. Three kinds run in the daemon:
 *
 * | kind      | world                          | the binary exports                         |
 * |-----------|--------------------------------|--------------------------------------------|
 * | `actor`   | `airssys:core/component@1.x`   | `airssys:core/component-lifecycle@1.0.0`   |
 * |           | (or `migratable-component`)    |                                            |
 * | `http`    | `wasi:http/proxy@0.2.x`        | `wasi:http/incoming-handler@0.2.x#handle`  |
 * | `command` | `wasi:cli/command@0.2.x`       | `wasi:cli/run@0.2.x#run`                   |
 *
 * A world of another namespace (an embedding application's own) is not checked: the host cannot
 * know it. A world in the `airssys:` or `wasi:` namespaces the host does not know is a typo.
 */

import { AirssysError } from '../../shared/errors.js';
import { wasi02Export } from '../wasi/exports.js';
import type { Component } from './engine.js';

export type ComponentKind = 'actor' | 'http' | 'command';

const LIFECYCLE = 'airssys:core/component-lifecycle@1.0.0';
const LIFECYCLE_FUNCS = ['init', 'handle-message', 'health', 'shutdown'] as const;

/** The world each kind is built for, as a manifest names it (without the version). */
export const KIND_WORLDS: Readonly<Record<ComponentKind, string>> = Object.freeze({
  actor: 'airssys:core/component',
  http: 'wasi:http/proxy',
  command: 'wasi:cli/command',
});

/** The actor world that also exports `airssys:core/migration` (checked at deploy, when it migrates). */
const MIGRATABLE = 'airssys:core/migratable-component';

const KIND_EXPORTS: Readonly<Record<ComponentKind, string>> = Object.freeze({
  actor: `${LIFECYCLE} (${LIFECYCLE_FUNCS.join(', ')})`,
  http: 'wasi:http/incoming-handler@0.2.x#handle',
  command: 'wasi:cli/run@0.2.x#run',
});

/** The world versions each kind accepts in a manifest. */
const KIND_VERSIONS: Readonly<Record<ComponentKind, { re: RegExp; accepted: string }>> = Object.freeze({
  actor: { re: /^1\./, accepted: '1.x' },
  http: { re: /^0\.2\./, accepted: '0.2.x' },
  command: { re: /^0\.2\./, accepted: '0.2.x' },
});

/** What the binary is, by its exports: a lifecycle first, then an HTTP handler, then a command. */
export function componentKind(component: Component): ComponentKind | undefined {
  const exported = new Set(component.plan.exports.map((e) => e.name));
  if (LIFECYCLE_FUNCS.every((f) => exported.has(`${LIFECYCLE}#${f}`))) return 'actor';
  if (wasi02Export(component, 'wasi:http/incoming-handler', 'handle') !== undefined) return 'http';
  if (wasi02Export(component, 'wasi:cli/run', 'run') !== undefined) return 'command';
  return undefined;
}

/**
 * Checks the manifest's `world` (when it names one the host knows) against the binary and
 * returns the component's kind (undefined: none the daemon runs, e.g. a library for an
 * embedding application). Throws `invalid-manifest` naming both the declared world and what the
 * binary is.
 */
export function checkWorld(component: Component): ComponentKind | undefined {
  const actual = componentKind(component);
  const declared = component.manifest.component.world;
  if (declared === undefined) return actual;
  const expected = declaredKind(declared);
  if (expected === undefined) return actual;
  const is =
    actual === undefined
      ? `it exports ${listExports(component)}`
      : `it is a ${KIND_WORLDS[actual]} component (it exports ${KIND_EXPORTS[actual]})`;
  if (actual !== expected) {
    mismatch(
      declared,
      `the binary does not export ${KIND_EXPORTS[expected]}: ${is}; build it for ${declared}, or set world = "${actual === undefined ? '…' : KIND_WORLDS[actual]}"`,
    );
  }
  return actual;
}

/** The kind a declared world means; undefined for a world of another namespace. */
function declaredKind(world: string): ComponentKind | undefined {
  const match = /^([a-z][a-z0-9-]*):([a-z][a-z0-9-]*)\/([a-z][a-z0-9-]*)(?:@(.+))?$/.exec(world);
  if (match === null) return undefined; // a bare world name: the component's own package
  const [, namespace, pkg, name, version] = match;
  if (namespace !== 'airssys' && namespace !== 'wasi') return undefined;
  const kind =
    `${namespace}:${pkg}/${name}` === MIGRATABLE
      ? 'actor'
      : (Object.keys(KIND_WORLDS) as ComponentKind[]).find(
          (k) => KIND_WORLDS[k] === `${namespace}:${pkg}/${name}`,
        );
  if (kind === undefined) {
    const known = [...Object.values(KIND_WORLDS), MIGRATABLE].join(', ');
    mismatch(world, `the host knows no world ${namespace}:${pkg}/${name} (it runs ${known})`);
  }
  if (version !== undefined && !KIND_VERSIONS[kind].re.test(version)) {
    const hint = kind !== 'actor' && version.startsWith('0.3') ? ' (WASI 0.3 is not supported yet)' : '';
    mismatch(
      world,
      `version ${version} of ${KIND_WORLDS[kind]} is not one this host runs: it runs ${KIND_VERSIONS[kind].accepted}${hint}`,
    );
  }
  return kind;
}

function listExports(component: Component): string {
  const names = component.plan.exports.map((e) => e.name);
  if (names.length === 0) return 'nothing';
  return names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');
}

function mismatch(world: string, why: string): never {
  throw new AirssysError(
    'invalid-manifest',
    `component.world: the manifest declares "${world}", but ${why}`,
    {
      blame: 'guest',
      details: { field: 'component.world', world },
    },
  );
}
