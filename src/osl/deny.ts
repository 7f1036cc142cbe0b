/**
 * The two refusals every guard raises, so messages and details read the same everywhere: a
 * `capability-denied` blamed on the guest (it asked for something it was not granted) and an
 * `invalid-argument` for input no policy should even try to interpret.
 */

import { AirssysError } from '../shared/errors.js';

export function denied(message: string, details?: Record<string, unknown>): AirssysError {
  return new AirssysError('capability-denied', message, { blame: 'guest', details });
}

export function malformed(message: string, details?: Record<string, unknown>): AirssysError {
  return new AirssysError('invalid-argument', message, { blame: 'guest', details });
}
