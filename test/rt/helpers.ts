/** Shared helpers for the rt tests. */

import { expect } from 'vitest';
import { AirssysError } from '../../src/shared/errors.js';

/** Lets queued microtasks and one event-loop turn run (drains in-flight runtime work). */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function expectCode(fn: () => unknown, code: string, message?: RegExp): AirssysError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AirssysError);
    const err = e as AirssysError;
    expect(err.code).toBe(code);
    if (message) expect(err.message).toMatch(message);
    return err;
  }
  throw new Error(`expected an AirssysError with code ${code}`);
}

export async function expectRejection(
  p: Promise<unknown>,
  code: string,
  message?: RegExp,
): Promise<AirssysError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AirssysError);
    const err = e as AirssysError;
    expect(err.code).toBe(code);
    if (message) expect(err.message).toMatch(message);
    return err;
  }
  throw new Error(`expected a rejection with code ${code}`);
}
