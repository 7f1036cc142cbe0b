// A host that installs counter 0.1.0 and 0.2.0, serves 0.1.0 with a count of 3, then deploys
// 0.2.0 blue-green and kills itself (SIGKILL, like `kill -9`) when the deployment's command
// number KILL_AT is applied. Used by test/deploy/recovery.test.ts; runs on dist/.
//
//   node deploy-child.mjs <dataDir> <killAt> <counterDir> <counterV2Dir>
import { Deployer } from '../../dist/deploy/index.js';
import { ComponentHost } from '../../dist/host/index.js';
import { Engine } from '../../dist/index.js';

const [dataDir, killAtText, v1Dir, v2Dir] = process.argv.slice(2);
const killAt = Number(killAtText);
let armed = false;
let applied = 0;
const host = await ComponentHost.create({ threads: 0, dataDir });
const deployer = new Deployer({
  host,
  engine: new Engine(),
  dataDir,
  pollMs: 1,
  onCommand: () => {
    if (armed && applied++ === killAt) process.kill(process.pid, 'SIGKILL');
  },
});
await deployer.install(v1Dir);
await deployer.install(v2Dir);
await deployer.deploy('counter', { version: '0.1.0' });
for (let i = 0; i < 3; i++) await host.request('counter', 'inc');
armed = true;
const outcome = await deployer.deploy('counter', { version: '0.2.0', strategy: { kind: 'blue-green' } });
process.stdout.write(`${JSON.stringify({ status: outcome.status, applied })}\n`);
await host.close();
deployer.close();
