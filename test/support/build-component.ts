/** Builds small components from WAT + WIT inside tests, with the same tooling as the fixtures. */

import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';

export async function buildComponent(wat: string, wit: string, world: string): Promise<Uint8Array> {
  const core = await parse(wat);
  const embedded = await componentEmbed({ binary: core, witSource: wit, world });
  return componentNew(embedded);
}
