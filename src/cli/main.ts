/** The `airssys-wasm` command: one file per command under `commands/`, all on the library API. */

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerBuild } from './commands/build.js';
import { registerCall, registerSend } from './commands/call.js';
import { registerCluster } from './commands/cluster.js';
import { registerDemo } from './commands/demo.js';
import { registerDeploy } from './commands/deploy.js';
import { registerHost } from './commands/host.js';
import { registerInspect } from './commands/inspect.js';
import { registerInstall } from './commands/install.js';
import { registerJob } from './commands/job.js';
import { registerKeys } from './commands/keys.js';
import { registerList } from './commands/list.js';
import { registerLogs } from './commands/logs.js';
import { registerNew } from './commands/new.js';
import { registerRollback } from './commands/rollback.js';
import { registerRun } from './commands/run.js';
import { registerServe } from './commands/serve.js';
import { registerStart, registerStop } from './commands/start-stop.js';
import { registerStatus } from './commands/status.js';
import { registerUninstall } from './commands/uninstall.js';
import { registerValidate } from './commands/validate.js';
import { EXIT_USAGE, reportError } from './output.js';

// Shell-friendly: a reader that stops early (`| head`) ends the output, not the command with a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('airssys-wasm')
  .description('Run WebAssembly components sandboxed, metered and supervised')
  .version(pkg.version)
  .exitOverride()
  .showHelpAfterError();

registerNew(program);
registerBuild(program);
registerRun(program);
registerServe(program);
registerValidate(program);
registerInspect(program);
registerDemo(program);
registerHost(program);
registerDeploy(program);
registerRollback(program);
registerCall(program);
registerSend(program);
registerJob(program);
registerLogs(program);
registerAudit(program);
registerStart(program);
registerStop(program);
registerInstall(program);
registerList(program);
registerStatus(program);
registerUninstall(program);
registerKeys(program);
registerCluster(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    // Commands report their own failures; anything reaching here is a host bug.
    process.exitCode = reportError(error, process.argv.includes('--json'));
  }
}
