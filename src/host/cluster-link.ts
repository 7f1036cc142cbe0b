/**
 * How a host reaches the other hosts of a cluster. The host knows nothing of NATS: it hands
 * messages for other hosts to the link and takes the link's arrivals, and the link (see
 * `src/cluster/`) tells it which addresses other hosts serve. Hosts are numbered by the link
 * (1, 2, …; each host numbers the others its own way); 0 means "every other host".
 */

import type { Envelope } from './envelope.js';

export interface ClusterLink {
  /** Called once by the host, before any message flows: where arriving messages go. */
  attach(arrive: (host: number, env: Envelope) => void): void;
  /** Sends a message to host `host`, or a publication to every other host (`host` 0). */
  send(host: number, env: Envelope): void;
}
