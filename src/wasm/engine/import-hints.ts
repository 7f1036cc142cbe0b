/**
 * What would grant an import the host does not provide, for the `capability-denied` a link
 * failure raises: the families of WASI and of the host's own extensions whose provision is a
 * decision of the host (the world the component is run as, a grant, a release line), so that
 * the message says what to change instead of only what is missing.
 */

const WASI_03 = /^wasi:[^@]+@0\.3\./;

/** The hint for the interface or function `name` (`ns:pkg/iface@1.2.3[#fn]`), if there is one. */
export function importHint(name: string): string | undefined {
  if (WASI_03.test(name)) {
    return 'WASI 0.3 is not supported yet: build the component for WASI 0.2 (wasi:*@0.2.x)';
  }
  if (name.startsWith('wasi:sockets/')) {
    return 'wasi:sockets is linked for commands and HTTP handlers (airssys-wasm run and serve, and the daemon for the wasi:cli/command and wasi:http/proxy worlds), granted by --allow-outbound or [permissions] network.outbound; an embedder passes `sockets` to createWasi';
  }
  if (name.startsWith('wasi:http/')) {
    return 'wasi:http is linked for commands and HTTP handlers (airssys-wasm run and serve, and the daemon for the wasi:cli/command and wasi:http/proxy worlds); an airssys:core component sends HTTP through airssys:ext-network/http@1.0.0 with [permissions] network.outbound';
  }
  return undefined;
}
