#!/usr/bin/env bash
# Times `run --rm busybox true` end to end for wharf (through the docker CLI and through bin/wharf) and,
# when they are installed, dockerd and podman, side by side in one run. Prints medians and ratios.
#   bench/run-rm.sh [N]     N runs each (default 20)
# Starts its own wharf daemon on temporary roots; uses a running dockerd (/var/run/docker.sock) only if one answers.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
tmp=$(mktemp -d /tmp/wharf-bench.XXXXXX)
sock="$tmp/wharf.sock"
bin/wharf daemon --data-root "$tmp/data" --exec-root "$tmp/exec" -H "unix://$sock" --bridge wbench0 >"$tmp/daemon.log" 2>&1 &
dpid=$!
cleanup() {
  kill "$dpid" 2>/dev/null || true
  wait "$dpid" 2>/dev/null || true
  grep " $tmp" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  # The daemon's default bridge and iptables chains outlive it, as dockerd's do.
  ip link del wbench0 2>/dev/null || true
  node_modules/.bin/node -e "import('./src/netdrv/index.ts').then((m) => m.removeDaemonRules('wbench0'))" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && break; sleep 0.05; done
WHARF_HOST="unix://$sock" scripts/make-busybox-image.sh >/dev/null

# median of N timings (ms) of a command
measure() {
  local times=()
  for _ in $(seq 1 "$N"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

declare -A result
result[wharf-cli]=$(WHARF_HOST="unix://$sock" measure bin/wharf run --rm busybox true)
result[docker-cli→wharf]=$(measure docker -H "unix://$sock" run --rm busybox true)
if curl -sf --unix-socket /var/run/docker.sock http://d/_ping >/dev/null 2>&1; then
  if ! docker image inspect busybox >/dev/null 2>&1; then
    scripts/make-busybox-image.sh --tar "$tmp/bb.tar" && docker import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null
  fi
  result[docker-cli→dockerd]=$(measure docker -H unix:///var/run/docker.sock run --rm busybox true)
fi
if command -v podman >/dev/null; then
  if ! podman image exists busybox 2>/dev/null; then
    scripts/make-busybox-image.sh --tar "$tmp/bb.tar" && podman import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null
  fi
  result[podman]=$(measure podman run --rm busybox true)
fi

base=${result[docker-cli→wharf]}
printf '%-22s %10s %10s\n' "run --rm busybox true" "median ms" "vs wharf"
for k in wharf-cli "docker-cli→wharf" "docker-cli→dockerd" podman; do
  [ -n "${result[$k]:-}" ] || continue
  printf '%-22s %10s %9.2fx\n' "$k" "${result[$k]}" "$(echo "${result[$k]} / $base" | bc -l)"
done
