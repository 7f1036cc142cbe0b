/**
 * Resolved, structural Component Model value types: what the decoder produces from a component's
 * type sections once every index and alias is followed, and what the canonical ABI code
 * generator specialises lift/lower code on. Nothing here refers to an index space any more.
 */

export type PrimitiveKind =
  | 'bool'
  | 's8'
  | 'u8'
  | 's16'
  | 'u16'
  | 's32'
  | 'u32'
  | 's64'
  | 'u64'
  | 'f32'
  | 'f64'
  | 'char'
  | 'string';

export type ValType =
  | { kind: PrimitiveKind }
  | { kind: 'list'; element: ValType }
  | { kind: 'record'; fields: readonly Field[] }
  | { kind: 'tuple'; types: readonly ValType[] }
  | { kind: 'variant'; cases: readonly Case[] }
  | { kind: 'enum'; names: readonly string[] }
  | { kind: 'option'; type: ValType }
  | { kind: 'result'; ok: ValType | undefined; err: ValType | undefined }
  | { kind: 'flags'; names: readonly string[] }
  | { kind: 'own'; resource: ResourceType }
  | { kind: 'borrow'; resource: ResourceType };

export interface Field {
  name: string;
  type: ValType;
}

export interface Case {
  name: string;
  type: ValType | undefined;
}

/**
 * A resource type. `origin` says who implements it: `guest` resources are defined inside the
 * component (handles created by `resource.new`), `host` resources come in through an import.
 */
export interface ResourceType {
  /** Unique within one compiled component. */
  id: number;
  /** The name it is imported or exported under, for messages. */
  name: string;
  origin: 'guest' | 'host';
  /**
   * For a guest resource, the component instance that defined it (0 the component itself,
   * then nested instances in the order the decoder evaluates them). A borrow passed to that
   * instance is its rep; passed to any other, it is a borrow handle.
   */
  implementer?: number;
}

export interface Param {
  name: string;
  type: ValType;
}

export interface FuncType {
  params: readonly Param[];
  /** `undefined` when the function returns nothing. */
  result: ValType | undefined;
}

export type StringEncoding = 'utf8' | 'utf16' | 'latin1+utf16';

/** The canonical options of one `canon lift` / `canon lower`, as flags the generator specialises on. */
export interface CanonOptionsShape {
  stringEncoding: StringEncoding;
  hasMemory: boolean;
  hasRealloc: boolean;
  hasPostReturn: boolean;
}
