// The wasi:sockets grants `airssys-wasm run` derives from its flags and a Component.toml:
// `--allow-outbound` grants connects and lookups as it grants HTTP, `--allow-listen` listeners.
import { describe, expect, it } from 'vitest';
import { socketsFrom } from '../../src/cli/run-grants.js';
import type { Manifest } from '../../src/wasm/manifest/schema.js';

function manifest(outbound: string[], inbound: string[]): Manifest {
  return {
    component: { name: 'svc', version: '1.2.3' },
    permissions: { network: { outbound, inbound } },
  } as unknown as Manifest;
}

describe('run — wasi:sockets grants', () => {
  it('gives a bare .wasm exactly its flags: outbound patterns (no port = any) and listen addresses', () => {
    expect(
      socketsFrom(['127.0.0.1:8080', 'api.example.com'], ['127.0.0.1', '[::1]:9000'], undefined),
    ).toEqual({
      network: {
        outbound: ['127.0.0.1:8080', 'api.example.com:*'],
        addresses: ['127.0.0.1'],
        listen: ['127.0.0.1:*', '[::1]:9000'],
      },
      component: undefined,
      version: undefined,
    });
  });

  it('grants nothing without flags', () => {
    expect(socketsFrom([], [], undefined).network).toEqual({ outbound: [], addresses: [], listen: [] });
  });

  it('refuses a listen flag that is a name or malformed, as a usage error', () => {
    expect(() => socketsFrom([], ['localhost:80'], undefined)).toThrow(
      /--allow-listen localhost:80: a listener needs an IP address/,
    );
    expect(() => socketsFrom([], ['127.0.0.1:99999'], undefined)).toThrow(/--allow-listen 127.0.0.1:99999/);
  });

  it('with a Component.toml: its network.inbound addresses are the listen grants, flags may only narrow them', () => {
    const m = manifest(['api.example.com:443'], ['127.0.0.1:8080', 'svc.internal:80']);
    const granted = socketsFrom([], [], m);
    expect(granted.network?.listen).toEqual(['127.0.0.1:8080']);
    expect(granted.network?.outbound).toEqual(['api.example.com:443']);
    expect(granted.component).toBe('svc');
    expect(socketsFrom([], ['127.0.0.1:8080'], m).network?.listen).toEqual(['127.0.0.1:8080']);
    expect(() => socketsFrom([], ['127.0.0.1:9090'], m)).toThrow(/does not grant it; network.inbound is/);
    expect(() => socketsFrom(['example.org'], [], m)).toThrow(/--allow-outbound example\.org/);
  });
});
