export interface HostProcess {
  readonly id: string;
  readonly url: string;
  readonly token: string;
  readonly pid: number | undefined;
  /** Calls the admin API; resolves with the JSON body (whatever the status). */
  api(method: string, path: string, body?: unknown): Promise<any>;
  /** `kill -9`: no shutdown, no last heartbeat. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export function startHostProcess(options: {
  dataDir: string;
  natsUrl: string;
  keyFile: string;
  hostId: string;
  threads?: number;
  capacity?: number;
  labels?: string[];
}): Promise<HostProcess>;
