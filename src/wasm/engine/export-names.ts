/**
 * How exports are named for the host: top-level functions by their WIT name (`add`), functions
 * of exported interfaces as `<interface>#<function>` with the full interface name
 * (`my:pkg/types@0.1.0#flip`), plus the short alias `types#flip` where it is unambiguous, and
 * `.` accepted for `#` when looking a name up.
 */

/** `ns:pkg/iface@1.0.0` → `iface`; a plain name stays as it is. */
function shortInterface(name: string): string {
  const at = name.indexOf('@');
  const bare = at > 0 ? name.slice(0, at) : name;
  return bare.slice(bare.lastIndexOf('/') + 1);
}

/** `[alias, full name]` pairs for the unambiguous `iface#func` short names of `names`. */
export function shortNameAliases(names: readonly string[]): [string, string][] {
  const seen = new Map<string, string | null>();
  const taken = new Set(names);
  for (const key of names) {
    const hash = key.lastIndexOf('#');
    if (hash <= 0) continue;
    const alias = `${shortInterface(key.slice(0, hash))}${key.slice(hash)}`;
    if (alias !== key) seen.set(alias, seen.has(alias) || taken.has(alias) ? null : key);
  }
  return [...seen].filter((entry): entry is [string, string] => entry[1] !== null);
}

/** The export key `name` refers to in `table`, or `undefined`. */
export function exportName(table: Readonly<Record<string, unknown>>, name: string): string | undefined {
  if (Object.hasOwn(table, name)) return name;
  const split = Math.max(name.lastIndexOf('#'), name.lastIndexOf('.'));
  if (split <= 0) return undefined;
  const iface = shortInterface(name.slice(0, split));
  const func = name.slice(split + 1);
  const matches = Object.keys(table).filter((key) => {
    const hash = key.lastIndexOf('#');
    return hash > 0 && key.slice(hash + 1) === func && shortInterface(key.slice(0, hash)) === iface;
  });
  return matches.length === 1 ? matches[0] : undefined;
}
