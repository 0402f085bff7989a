#!/usr/bin/env bash
# `npm run bench [-- --quick] [-- --only ingest,latency,reflector,mesh,churn,acl] [-- --million]`
# Benchmarks tern against BIRD 2 (configured as calico-node configures it) in network
# namespaces it creates and removes; prints a comparison table and writes
# bench/results/<timestamp>.json. See docs/benchmarks.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ $(id -u) -ne 0 ]]; then echo "npm run bench: run as root (it creates network namespaces)" >&2; exit 1; fi
# install-deps.sh installs the Debian packages (bird2, iproute2, ...) and builds when dist/ is
# stale; without it, build here.
if [[ -f scripts/install-deps.sh ]]; then bash scripts/install-deps.sh; else npm run --silent build; fi
exec node --expose-gc --import tsx bench/run.ts "$@"
