// An application that embeds airssys-wasm: it runs one export with the engine, then hosts a
// component as an actor, deploys a new version of it while it serves, and rolls back.
// Run from a folder holding `fixtures/build` (see docs/guides/embedding.md); state goes to ./data.
import { AirssysError, ComponentHost, Engine } from 'airssys-wasm';
import { Deployer } from 'airssys-wasm/deploy';

const dataDir = './data';
const engine = new Engine({ cacheDir: `${dataDir}/cache` });

// The engine alone: load a component with its manifest's limits and call an export.
const basic = await engine.load('fixtures/build/basic');
console.log('add(1, 2) =', basic.instantiate().exports.add(1, 2));

// Components as actors, with their versions managed by a Deployer on the same data directory.
const host = await ComponentHost.create({ threads: 1, dataDir });
const deployer = new Deployer({ host, engine, dataDir });
try {
  await deployer.recover(); // after a restart: what served before serves again
  await deployer.install('fixtures/build/counter');
  await deployer.install('fixtures/build/counter-v2');
  await deployer.deploy('counter', { version: '0.1.0' });

  const text = async (payload: string) => {
    const reply = await host.request('counter', payload, { timeoutMs: 1000 });
    return new TextDecoder().decode(reply.payload);
  };
  console.log('inc ->', await text('inc'));

  const outcome = await deployer.deploy('counter', { version: '0.2.0', strategy: { kind: 'blue-green' } });
  console.log('deploy 0.2.0:', outcome.status, '| get ->', await text('get'));

  await deployer.rollback('counter');
  console.log('rollback | get ->', await text('get'));

  try {
    await host.request('counter', 'boom'); // the component traps; its supervisor restarts it
  } catch (error) {
    if (!(error instanceof AirssysError)) throw error;
    console.log('boom ->', error.code);
  }
  console.log('after the restart | get ->', await text('get'));
} finally {
  await host.close();
  deployer.close();
}
