#!/usr/bin/env bash
# npm run demo [-- --keep]: installs what is missing, builds, and runs the 3-node lab.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "the demo needs root (network namespaces)" >&2; exit 1; fi
bash scripts/install-deps.sh
exec node --import tsx scripts/demo.ts "$@"
