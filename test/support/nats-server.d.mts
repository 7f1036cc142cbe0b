export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Where JetStream keeps its data. */
  readonly dir: string;
  /** `keepData`: leave the JetStream folder, to restart the server on it. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** Starts a server; the same `port` and `dir` restart a stopped one with its JetStream data. */
export function startNats(options?: { port?: number; dir?: string }): Promise<NatsServer>;
