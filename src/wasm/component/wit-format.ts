/** Renders resolved types back in WIT syntax, for `inspect`, messages and docs. */

import type { FuncType, ValType } from './types.js';

export function formatFunc(type: FuncType): string {
  const params = type.params.map((p) => `${p.name}: ${formatType(p.type)}`).join(', ');
  return type.result === undefined ? `func(${params})` : `func(${params}) -> ${formatType(type.result)}`;
}

export function formatType(type: ValType): string {
  switch (type.kind) {
    case 'list':
      return `list<${formatType(type.element)}>`;
    case 'record':
      return `record { ${type.fields.map((f) => `${f.name}: ${formatType(f.type)}`).join(', ')} }`;
    case 'tuple':
      return `tuple<${type.types.map(formatType).join(', ')}>`;
    case 'variant':
      return `variant { ${type.cases.map((c) => (c.type ? `${c.name}(${formatType(c.type)})` : c.name)).join(', ')} }`;
    case 'enum':
      return `enum { ${type.names.join(', ')} }`;
    case 'flags':
      return `flags { ${type.names.join(', ')} }`;
    case 'option':
      return `option<${formatType(type.type)}>`;
    case 'result':
      return `result<${type.ok ? formatType(type.ok) : '_'}, ${type.err ? formatType(type.err) : '_'}>`;
    case 'own':
      return `own<${type.resource.name}>`;
    case 'borrow':
      return `borrow<${type.resource.name}>`;
    default:
      return type.kind;
  }
}
