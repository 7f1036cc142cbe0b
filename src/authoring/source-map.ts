/**
 * Maps positions in the bundle back to the author's files, so that an exception StarlingMonkey
 * reports at build time (`component.js:116:19`) names `src/component.ts:12:7` instead. Just the
 * part of the Source Map v3 format esbuild emits: `sources` and VLQ `mappings`.
 */

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

export interface SourceMapV3 {
  sources: string[];
  mappings: string;
}

/** [generated column, source index, source line, source column], all 0-based. */
type Segment = [number, number, number, number];

function decodeLines(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let source = 0;
  let line = 0;
  let column = 0;
  for (const text of mappings.split(';')) {
    const segments: Segment[] = [];
    let generated = 0;
    for (const segment of text.split(',')) {
      if (segment === '') continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const c of segment) {
        const digit = DIGIT.get(c) ?? 0;
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      generated += values[0] ?? 0;
      if (values.length >= 4) {
        source += values[1];
        line += values[2];
        column += values[3];
        segments.push([generated, source, line, column]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

/** Returns `map(line, column)` (1-based, as engines print them) → `file:line:column`, or undefined. */
export function positionMapper(
  map: SourceMapV3,
  sourceName: (source: string) => string,
): (line: number, column: number) => string | undefined {
  let lines: Segment[][] | undefined;
  return (line, column) => {
    lines ??= decodeLines(map.mappings);
    const segments = lines[line - 1];
    if (!segments?.length) return undefined;
    let best: Segment | undefined;
    for (const s of segments) if (s[0] <= column - 1) best = s;
    best ??= segments[0];
    const source = map.sources[best[1]];
    return source === undefined ? undefined : `${sourceName(source)}:${best[2] + 1}:${best[3] + 1}`;
  };
}
