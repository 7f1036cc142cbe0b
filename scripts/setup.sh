#!/usr/bin/env bash
# Sets up a checkout on a fresh machine: the Debian tools the fixture components are built
# with (clang, lld, wasi-libc), then the npm packages (which also build dist/ via `prepare`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-system-deps.sh
npm ci --no-audit --no-fund
