#!/bin/sh
# Installs the Debian packages `node scripts/build-fixtures.mjs` needs (C fixtures `kernel`
# and `c-wasi`): clang (wasm32 target), lld (wasm-ld), wasi-libc (sysroot /usr/lib/wasm32-wasi)
# and the wasm32 compiler-rt builtins; chromium, which the dashboard's browser test drives
# through playwright-core; curl, which the tested docs call; nats-server, which the cluster tests
# and benchmarks start (JetStream included). Everything else is an npm package.
# Skips apt entirely when the tools are already present. Run as root (or through sudo).
set -eu

PACKAGES="clang lld wasi-libc libclang-rt-14-dev-wasm32 chromium curl nats-server"

have_tools() {
  command -v clang >/dev/null 2>&1 &&
    command -v wasm-ld >/dev/null 2>&1 &&
    command -v chromium >/dev/null 2>&1 &&
    command -v curl >/dev/null 2>&1 &&
    command -v nats-server >/dev/null 2>&1 &&
    [ -f /usr/lib/wasm32-wasi/libc.a ] &&
    [ -n "$(find /usr/lib/llvm-*/lib/clang -path '*wasi*' -name 'libclang_rt.builtins-wasm32.a' 2>/dev/null | head -n 1)" ]
}

if have_tools; then
  echo "install-system-deps: clang, wasm-ld, wasi-libc, wasm32 builtins, chromium, curl and nats-server already present; nothing to do"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-system-deps: must run as root (or with sudo available)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $PACKAGES

if ! have_tools; then
  echo "install-system-deps: packages installed but clang/wasm-ld/wasi-libc/chromium/nats-server still missing" >&2
  exit 1
fi
echo "install-system-deps: $(clang --version | head -n 1); wasm-ld and wasi-libc present"
