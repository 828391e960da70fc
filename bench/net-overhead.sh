#!/usr/bin/env bash
# Time that networking adds to `run --rm busybox true`: the same run with --network host (no netns, no veth),
# none (netns with lo), the default bridge, a user network (embedded DNS), and the bridge with a published port.
#   bench/net-overhead.sh [N]     N runs each (default 20)
# Starts its own wharf daemon on temporary roots and removes its bridges and iptables chains afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
N=${1:-20}
tmp=$(mktemp -d /tmp/wharf-netbench.XXXXXX)
sock="$tmp/wharf.sock"
br=wnb$$
br=${br:0:15}
bin/wharf daemon --data-root "$tmp/data" --exec-root "$tmp/exec" -H "unix://$sock" --bridge "$br" --bip 10.253.$((RANDOM % 250)).1/24 >"$tmp/daemon.log" 2>&1 &
dpid=$!
D=(docker -H "unix://$sock")
cleanup() {
  set +e
  "${D[@]}" rm -f $("${D[@]}" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  "${D[@]}" network rm benchnet >/dev/null 2>&1 || true
  kill "$dpid" 2>/dev/null || true
  wait "$dpid" 2>/dev/null || true
  grep " $tmp" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del "$br" 2>/dev/null || true
  node_modules/.bin/node -e "import('./src/netdrv/index.ts').then((m) => m.removeDaemonRules('$br'))" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && break; sleep 0.05; done
WHARF_HOST="unix://$sock" scripts/make-busybox-image.sh >/dev/null
"${D[@]}" network create --subnet 10.252.$((RANDOM % 250)).0/24 benchnet >/dev/null


declare -A result
order=(host none bridge user-network "bridge -p 80")
result[host]=$(measure "${D[@]}" run --rm --network host busybox true)
result[none]=$(measure "${D[@]}" run --rm --network none busybox true)
result[bridge]=$(measure "${D[@]}" run --rm busybox true)
result[user-network]=$(measure "${D[@]}" run --rm --network benchnet busybox true)
result["bridge -p 80"]=$(measure "${D[@]}" run --rm -p 80 busybox true)
base=${result[host]}
printf '%-22s %10s %12s\n' "run --rm busybox true" "median ms" "vs host"
for k in "${order[@]}"; do
  printf '%-22s %10s %+11dms\n' "$k" "${result[$k]}" "$((result[$k] - base))"
done
