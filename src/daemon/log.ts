/**
 * The daemon's structured log: one JSON line per event (pino), with the component, its version
 * and address on every line a component caused — its own `log` calls included — so a log
 * pipeline can filter by component without parsing messages. Written asynchronously to a file
 * (default `<data-dir>/host.log`); the terminal keeps the short human banner.
 */

import pino, { type Logger } from 'pino';
import type { DaemonEvent } from './event-hub.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DaemonLog {
  readonly logger: Logger;
  /** Writes what is buffered and closes the file. */
  close(): Promise<void>;
}

export function daemonLogger(file: string, level: LogLevel = 'info'): DaemonLog {
  const destination = pino.destination({ dest: file, mkdir: true, sync: false });
  const logger = pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
  return {
    logger,
    // Note: `flush(cb)` may call back before the file is even open; `end` waits for it.
    close: () =>
      new Promise<void>((resolve) => {
        destination.once('close', () => resolve());
        destination.end();
      }),
  };
}

const GUEST_LEVELS: Record<string, LogLevel> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
};

/** Writes one daemon event as a log line. */
export function logEvent(logger: Logger, event: DaemonEvent): void {
  switch (event.type) {
    case 'log': {
      const { type: _t, level, message, at: _at, ...fields } = event;
      const to = GUEST_LEVELS[level] ?? 'info';
      if (to !== 'silent' && to !== 'fatal') logger[to]({ event: 'log', ...fields }, message);
      return;
    }
    case 'failed':
      logger.error({ event: 'failed', address: event.address }, event.reason);
      return;
    case 'lifecycle':
      logger.info(
        { event: 'lifecycle', key: event.key, from: event.from, to: event.to },
        `${event.key}: ${event.from} → ${event.to}${event.reason ? ` (${event.reason})` : ''}`,
      );
      return;
    case 'deployment': {
      const { type: _t, at: _at, error, ...fields } = event;
      if (error) logger.warn({ event: 'deployment', ...fields, error }, `deployment ${event.op} failed`);
      else logger.info({ event: 'deployment', ...fields }, `deployment ${event.op}`);
      return;
    }
    case 'job': {
      const { type: _t, at: _at, ...fields } = event;
      if (event.error !== undefined)
        logger.warn({ event: 'job', ...fields }, `job ${event.address} failed [${event.error}]`);
      else
        logger.info({ event: 'job', ...fields }, `job ${event.address} exited with status ${event.status}`);
    }
  }
}
