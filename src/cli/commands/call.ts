/**
 * `airssys-wasm call <address> <payload>` (a request: prints the reply) and
 * `airssys-wasm send <address> <payload>` (fire and forget), on the running host.
 */

import type { Command } from 'commander';
import { adminCall } from '../admin-client.js';
import { EXIT_OK, printJson, reportError } from '../output.js';
import { type DataDirFlags, withDataDirOptions } from './install.js';

interface MessageFlags extends DataDirFlags {
  codec: string;
  timeoutMs?: string;
}

function messageCommand(program: Command, name: 'call' | 'send', description: string): Command {
  return withDataDirOptions(
    program
      .command(name)
      .description(description)
      .argument('<address>', 'the component address')
      .argument('<payload>', 'the payload: text (raw) or a JSON document (--codec json)')
      .option('--codec <codec>', 'raw | json', 'raw'),
  );
}

export function registerCall(program: Command): void {
  messageCommand(program, 'call', 'send a request to a component on the running host and print its reply')
    .option('--timeout-ms <ms>', 'how long to wait for the reply', '5000')
    .action(async (address: string, payload: string, flags: MessageFlags) => {
      try {
        const reply = await adminCall(
          flags.dataDir,
          'POST',
          `/v1/addresses/${encodeURIComponent(address)}/request`,
          {
            payload,
            codec: flags.codec,
            timeoutMs: Number(flags.timeoutMs),
          },
        );
        if (flags.json) printJson(reply);
        else
          process.stdout.write(
            `${reply.value !== undefined ? JSON.stringify(reply.value) : (reply.text ?? '(binary reply)')}\n`,
          );
        process.exitCode = EXIT_OK;
      } catch (error) {
        process.exitCode = reportError(error, flags.json ?? false);
      }
    });
}

export function registerSend(program: Command): void {
  messageCommand(program, 'send', 'send a fire-and-forget message to a component on the running host').action(
    async (address: string, payload: string, flags: MessageFlags) => {
      try {
        await adminCall(flags.dataDir, 'POST', `/v1/addresses/${encodeURIComponent(address)}/send`, {
          payload,
          codec: flags.codec,
        });
        if (flags.json) printJson({ ok: true });
        process.exitCode = EXIT_OK;
      } catch (error) {
        process.exitCode = reportError(error, flags.json ?? false);
      }
    },
  );
}
