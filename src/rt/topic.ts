/**
 * Topic names and patterns, NATS-style: dot-separated segments; in a pattern `*` matches exactly
 * one segment and `>` (only as the last segment) one or more remaining segments. Published topics
 * carry no wildcards.
 */

import { AirssysError } from '../shared/errors.js';

function segmentsOf(value: string, field: string): string[] {
  if (typeof value !== 'string' || value.length === 0) {
    throw new AirssysError(
      'invalid-argument',
      `${field}: expected a non-empty string, got ${JSON.stringify(value)}`,
      {
        details: { field },
      },
    );
  }
  const segments = value.split('.');
  for (const s of segments) {
    if (s.length === 0 || /\s/.test(s)) {
      throw new AirssysError(
        'invalid-argument',
        `${field} '${value}': segments must be non-empty and contain no whitespace`,
        { details: { field } },
      );
    }
  }
  return segments;
}

/** Splits and checks a subscription pattern; throws `invalid-argument`. */
export function parsePattern(pattern: string): string[] {
  const segments = segmentsOf(pattern, 'pattern');
  segments.forEach((s, i) => {
    if (s === '>' && i !== segments.length - 1) {
      throw new AirssysError('invalid-argument', `pattern '${pattern}': '>' may only be the last segment`, {
        details: { field: 'pattern' },
      });
    }
    if (s !== '*' && s !== '>' && (s.includes('*') || s.includes('>'))) {
      throw new AirssysError(
        'invalid-argument',
        `pattern '${pattern}': wildcards must be a whole segment ('${s}')`,
        {
          details: { field: 'pattern' },
        },
      );
    }
  });
  return segments;
}

/** Splits and checks a topic to publish on (no wildcards); throws `invalid-argument`. */
export function parseTopic(topic: string): string[] {
  const segments = segmentsOf(topic, 'topic');
  for (const s of segments) {
    if (s.includes('*') || s.includes('>')) {
      throw new AirssysError(
        'invalid-argument',
        `topic '${topic}': wildcards are for patterns, not published topics`,
        {
          details: { field: 'topic' },
        },
      );
    }
  }
  return segments;
}

/**
 * Whether `topic` matches `pattern`.
 *
 * @example
 * topicMatches('orders.*.created', 'orders.eu.created'); // true
 * topicMatches('events.>', 'events'); // false: '>' needs at least one segment
 */
export function topicMatches(pattern: string, topic: string): boolean {
  const p = parsePattern(pattern);
  const t = parseTopic(topic);
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return t.length > i;
    if (i >= t.length) return false;
    if (p[i] !== '*' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}
