/** Typed access to the nats-server helper the tests share with bench/cluster (a plain .mjs). */

// @ts-expect-error: a plain .mjs module, typed here
import { startNats as start } from './nats-server.mjs';

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export const startNats: () => Promise<NatsServer> = start;
