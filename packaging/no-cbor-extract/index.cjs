// cbor-x loads its optional native accelerator `cbor-extract` when it can and falls back to its
// own JavaScript decoder when the require throws. The accelerator's per-platform binaries are not
// on every registry this project installs from, and a lock file that names them makes `npm ci`
// refuse to install there; the host is measured with the JavaScript decoder. The root
// package.json overrides `cbor-extract` with this folder for development installs only (overrides
// do not apply to packages that depend on airssys-wasm).
throw new Error('cbor-extract is not installed in this checkout: cbor-x uses its JavaScript decoder');
