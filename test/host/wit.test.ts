// The host's WIT package validates with the standard tooling (wasm-tools, via jco-transpile):
// each world embeds into a component and decodes back with the interfaces it declares.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { componentEmbed, componentNew, componentWit } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.js';

const source = readFileSync(join(ROOT, 'wit', 'core', 'core.wit'), 'utf8');

describe('airssys:core@1.0.0', () => {
  it('world component: imports host-services, exports component-lifecycle', async () => {
    const component = await componentNew(
      await componentEmbed({ dummy: true, witSource: source, world: 'component' }),
    );
    const wit = await componentWit(component);
    expect(wit).toContain('import airssys:core/host-services@1.0.0;');
    expect(wit).toContain('export airssys:core/component-lifecycle@1.0.0;');
    expect(wit).not.toContain('migration');
  });

  it('world migratable-component adds the migration export', async () => {
    const component = await componentNew(
      await componentEmbed({ dummy: true, witSource: source, world: 'migratable-component' }),
    );
    expect(await componentWit(component)).toContain('export airssys:core/migration@1.0.0;');
  });

  it('declares every host service the host implements', async () => {
    const { hostServices } = await import('../../src/host/host-services.js');
    const block = source.slice(source.indexOf('interface host-services'), source.indexOf('world component'));
    const declared = [...block.matchAll(/^ {2}([a-z][a-z0-9-]*): func/gm)].map((m) => m[1]).sort();
    const manifest = {
      permissions: { messaging: { send: [], subscribe: [] }, storage: { namespaces: [] } },
      config: {},
    };
    const implemented = Object.keys(
      hostServices({} as never, {
        address: 'x',
        version: 'v1',
        key: 1,
        manifest: manifest as never,
        current: undefined,
      }),
    ).sort();
    expect(implemented).toEqual(declared);
  });

  it('a typo in the WIT is refused by the tooling (the test can fail)', async () => {
    await expect(
      componentEmbed({
        dummy: true,
        witSource: source.replace('record message {', 'record message {{'),
        world: 'component',
      }),
    ).rejects.toThrow();
  });
});
