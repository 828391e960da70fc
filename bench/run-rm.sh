#!/usr/bin/env bash
# Times `run --rm busybox true` end to end, side by side in one run: wharf through bin/wharf and through the
# docker CLI, and, when installed, dockerd (started here on temporary roots) and podman. All runs use
# `--network none` so the number is the engine's own path (bench/net-overhead.sh measures networking).
#   bench/run-rm.sh [N]     N runs each (default 20)
# Everything it starts (daemons, mounts, temp dirs) is stopped and removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
N=${1:-20}
tmp=$(mktemp -d /tmp/wharf-bench.XXXXXX)
sock="$tmp/wharf.sock"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  grep " $tmp" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del wbench0 2>/dev/null || true
  node_modules/.bin/node -e "import('./src/netdrv/index.ts').then((m) => m.removeDaemonRules('wbench0'))" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

bin/wharf daemon --data-root "$tmp/data" --exec-root "$tmp/exec" -H "unix://$sock" --bridge wbench0 >"$tmp/daemon.log" 2>&1 &
pids+=($!)
waitsock "$sock"
scripts/make-busybox-image.sh --tar "$tmp/bb.tar" >/dev/null
WHARF_HOST="unix://$sock" bin/wharf import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null


declare -A result
order=()
add() { result[$1]=$2; order+=("$1"); }
add "wharf CLI → wharf" "$(WHARF_HOST="unix://$sock" measure bin/wharf run --rm --network none busybox true)"
add "docker CLI → wharf" "$(measure docker -H "unix://$sock" run --rm --network none busybox true)"
if command -v dockerd >/dev/null; then
  # Its own roots, socket and containerd namespace; no bridge and no iptables, so the host is left as it was.
  dockerd --data-root "$tmp/ddata" --exec-root "$tmp/dexec" -H "unix://$tmp/docker.sock" --pidfile "$tmp/dockerd.pid" \
    --bridge none --iptables=false --ip-forward=false --containerd-namespace wbench --containerd-plugins-namespace wbenchp \
    >"$tmp/dockerd.log" 2>&1 &
  pids+=($!)
  if waitsock "$tmp/docker.sock"; then
    docker -H "unix://$tmp/docker.sock" import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null
    add "docker CLI → dockerd" "$(measure docker -H "unix://$tmp/docker.sock" run --rm --network none busybox true)"
  else
    echo "dockerd did not start; see $tmp/dockerd.log" >&2
  fi
fi
if command -v podman >/dev/null; then
  podman --root "$tmp/proot" --runroot "$tmp/prun" import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null
  add "podman" "$(measure podman --root "$tmp/proot" --runroot "$tmp/prun" run --rm --network none busybox true)"
fi

base=${result["docker CLI → wharf"]}
printf '%-24s %10s %12s\n' "run --rm busybox true" "median ms" "÷ wharf"
for k in "${order[@]}"; do
  printf '%-24s %10s %11.2fx\n' "$k" "${result[$k]}" "$(echo "${result[$k]} / $base" | bc -l)"
done
