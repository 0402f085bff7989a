#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmarks need, idempotently, in a few seconds
# when everything is already there.
#
#   1. Debian packages (apt-get update only when one is missing): the peers the integration
#      tests run (BIRD 2, GoBGP, FRR, etcd) and the tools they drive (ip, ping, nft, ...).
#   2. Makes sure none of those daemons is left running as a host service: Debian's packages
#      may start bird/frr/gobgpd/etcd on install, and a host bgpd/bird on port 179 in the root
#      namespace would collide with the tests. Tests start their own copies in namespaces.
#   3. Reports whether the ipip module is available (IPIP pool tests need it); never fails.
#   4. `npm ci` when node_modules is missing or package-lock.json changed, then `npm run build`.
#
# Usage: sudo bash scripts/install-deps.sh      (CI: run by .ci/run as root)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[install-deps] %s\n' "$*"; }

PACKAGES=(bird2 gobgpd frr etcd-server etcd-client nftables iptables iproute2 iputils-ping
  tcpdump procps psmisc)

# ---- 1. Debian packages -----------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing packages: ${missing[*]} (run as root to install them)"; exit 1
  fi
  log "installing: ${missing[*]}"
  # Keep package scripts from starting services while we install (restored afterwards).
  prc=/usr/sbin/policy-rc.d; prc_created=0
  if [[ ! -e $prc ]]; then printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod +x "$prc"; prc_created=1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if ((prc_created)); then rm -f "$prc"; fi
else
  log "Debian packages present"
fi

# ---- 2. No host services ------------------------------------------------------------------
# The package services run as their own users (bird, frr, etcd) or from /etc/gobgpd.conf;
# the tests' copies run as root with configs in their lab dirs, inside namespaces. Only the
# package services are stopped: systemd units when systemd runs, else the init.d scripts.
service_pids() { # pids of the package service $1 still running on this host
  case $1 in
    bird) pgrep -u bird -x bird ;;
    frr) pgrep -u frr ;;
    etcd) pgrep -u etcd -x etcd ;;
    gobgpd) pgrep -f '^/usr/bin/gobgpd -f /etc/gobgpd.conf' ;;
  esac
}
if [[ $(id -u) -eq 0 ]]; then
  for s in bird frr gobgpd etcd; do
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
      if systemctl is-active --quiet "$s" 2>/dev/null; then log "stopping service $s"; systemctl stop "$s" || true; fi
      if systemctl is-enabled --quiet "$s" 2>/dev/null; then log "disabling service $s"; systemctl disable --quiet "$s" || true; fi
    else
      if [[ -n $(service_pids "$s" || true) && -x /etc/init.d/$s ]]; then
        log "stopping service $s"; /etc/init.d/"$s" stop >/dev/null 2>&1 || true
      fi
      # no init system: make sure nothing starts them at boot either
      if [[ -x /etc/init.d/$s ]] && command -v update-rc.d >/dev/null; then update-rc.d "$s" disable >/dev/null 2>&1 || true; fi
    fi
    pids=$(service_pids "$s" || true)
    if [[ -n $pids ]]; then
      sleep 1; pids=$(service_pids "$s" || true)
      if [[ -n $pids ]]; then log "service $s still running (pids $(echo $pids)): killing it"; kill $pids 2>/dev/null || true; fi
    fi
  done
  # A daemon still holding TCP 179 in the root namespace would collide with tests binding it.
  holders=$(ss -Htlnp 'sport = :179' 2>/dev/null || true)
  if [[ -n $holders ]]; then log "WARNING: port 179 is in use in the root namespace:"; printf '%s\n' "$holders"; fi
fi

# ---- 3. ipip ------------------------------------------------------------------------------
if [[ -d /sys/module/ipip ]]; then
  log "ipip: loaded"
elif command -v modprobe >/dev/null && modprobe -q ipip 2>/dev/null; then
  log "ipip: loaded with modprobe"
else
  log "ipip: NOT available in this kernel (IPIP tunnel tests will skip)"
fi

# ---- 4. npm -------------------------------------------------------------------------------
cd "$ROOT"
# Stale = package-lock.json's content changed since our last `npm ci` (a hash, not mtimes:
# editors and other tools touch files without changing them).
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.tern-lock-sha256
need_ci=0
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json ]]; then need_ci=1
elif [[ -f $stamp ]]; then [[ $(cat "$stamp") == "$lock_hash" ]] || need_ci=1
elif [[ package-lock.json -nt node_modules/.package-lock.json ]]; then need_ci=1
fi
if ((need_ci)); then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
else
  log "node_modules up to date"
fi
echo "$lock_hash" >"$stamp"
# Build unless dist/ is newer than every source and build-config file.
bstamp=dist/.tern-build-stamp
if [[ -f $bstamp && -f dist/cli/main.js ]] &&
  [[ -z $(find src scripts/bundle.mjs tsconfig.json tsconfig.build.json package.json -newer "$bstamp" -print -quit 2>/dev/null) ]]; then
  log "dist/ up to date"
else
  log "npm run build"
  mkdir -p dist # a fresh clone has none yet
  touch "$bstamp.new" # taken before the build, so edits made during it still count as newer
  npm run --silent build
  mv "$bstamp.new" "$bstamp"
fi
log "done"
