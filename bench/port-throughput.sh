#!/usr/bin/env bash
# Published-port throughput: one large download (256 MiB) and many small requests (N, one connection each)
# from the host to a busybox httpd behind `-p`, over loopback (userland proxy) and over the host's address
# (iptables DNAT). When dockerd is installed it is started on temporary roots for the same runs through
# docker-proxy, then stopped and its bridge and chains removed.
#   bench/port-throughput.sh [N]     N small requests (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
N=${1:-500}
tmp=$(mktemp -d /tmp/wharf-portbench.XXXXXX)
br=wpb$$
br=${br:0:15}
hostip=$(ip -4 -o addr show scope global | awk '$2 !~ /^(wt|br-|veth|docker|wpb)/ {split($4, a, "/"); print a[1]; exit}')
wpid="" dpid=""
cleanup() {
  set +e
  [ -n "$wpid" ] && { docker -H "unix://$tmp/wharf.sock" rm -f pbweb >/dev/null 2>&1 || true; kill "$wpid" 2>/dev/null || true; wait "$wpid" 2>/dev/null || true; }
  if [ -n "$dpid" ]; then
    docker -H "unix://$tmp/docker.sock" rm -f pbweb >/dev/null 2>&1 || true
    kill "$dpid" 2>/dev/null || true
    wait "$dpid" 2>/dev/null || true
    ip link del wpbdock0 2>/dev/null || true
    # dockerd leaves its chains behind: unhook them from the builtin chains, then flush and delete them.
    for t in filter nat; do
      iptables-save -t "$t" | grep -E -- '^-A (FORWARD|PREROUTING|OUTPUT|POSTROUTING) .*-j DOCKER' | sed 's/^-A/-D/' |
        while read -r r; do eval iptables -t "$t" "$r" 2>/dev/null || true; done
      iptables-save -t "$t" | grep -E -- '^-A [A-Z]+ .*(wpbdock0|10\.249\.7\.0/24)' | sed 's/^-A/-D/' |
        while read -r r; do eval iptables -t "$t" "$r" 2>/dev/null || true; done
      for c in $(iptables-save -t "$t" | sed -n 's/^:\(DOCKER[A-Z0-9-]*\) .*/\1/p'); do iptables -t "$t" -F "$c"; done
      for c in $(iptables-save -t "$t" | sed -n 's/^:\(DOCKER[A-Z0-9-]*\) .*/\1/p'); do iptables -t "$t" -X "$c"; done
    done
  fi
  grep " $tmp" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del "$br" 2>/dev/null || true
  node_modules/.bin/node -e "import('./src/netdrv/index.ts').then((m) => m.removeDaemonRules('$br'))" || true
  rm -rf "$tmp"
}
trap cleanup EXIT


# Runs the measurements against the engine at socket $1; prints one line per measurement.
measure() {
  local D=(docker -H "unix://$1") name=$2
  "${D[@]}" run -d --name pbweb --tmpfs /www -p 0:80 busybox sh -c \
    'dd if=/dev/zero of=/www/big bs=1M count=256 2>/dev/null; echo ok > /www/small; exec httpd -f -p 80 -h /www' >/dev/null
  local port
  port=$("${D[@]}" port pbweb 80/tcp | head -1 | sed 's/.*://')
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/small" >/dev/null 2>&1 && break; sleep 0.05; done
  for via in 127.0.0.1 "$hostip"; do
    local mbps t0 t1
    mbps=$(curl -s -o /dev/null -w '%{speed_download}' "http://$via:$port/big" | awk '{printf "%.0f", $1 / 1048576}')
    t0=$(date +%s%N)
    curl -s -o /dev/null "http://$via:$port/small?[1-$N]"
    t1=$(date +%s%N)
    printf '%-28s %-16s %8s MiB/s %8.0f req/s\n' "$name" "$via" "$mbps" "$(echo "$N * 1000000000 / ($t1 - $t0)" | bc -l)"
  done
  "${D[@]}" rm -f pbweb >/dev/null
}

bin/wharf daemon --data-root "$tmp/wdata" --exec-root "$tmp/wexec" -H "unix://$tmp/wharf.sock" --bridge "$br" --bip "10.248.$((RANDOM % 250)).1/24" >"$tmp/wharf.log" 2>&1 &
wpid=$!
waitsock "$tmp/wharf.sock"
WHARF_HOST="unix://$tmp/wharf.sock" scripts/make-busybox-image.sh >/dev/null
printf '%-28s %-16s %14s %14s\n' engine via "256 MiB" "$N small"
measure "$tmp/wharf.sock" "wharf (proxy/DNAT)"

if command -v dockerd >/dev/null; then
  ip link add wpbdock0 type bridge && ip addr add 10.249.7.1/24 dev wpbdock0 && ip link set wpbdock0 up
  dockerd --data-root "$tmp/ddata" --exec-root "$tmp/dexec" -H "unix://$tmp/docker.sock" --pidfile "$tmp/dockerd.pid" \
    --bridge wpbdock0 --containerd-namespace wpb --containerd-plugins-namespace wpbp >"$tmp/dockerd.log" 2>&1 &
  dpid=$!
  if waitsock "$tmp/docker.sock"; then
    scripts/make-busybox-image.sh --tar "$tmp/bb.tar" >/dev/null
    docker -H "unix://$tmp/docker.sock" import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null
    measure "$tmp/docker.sock" "dockerd (docker-proxy/DNAT)"
  else
    echo "dockerd did not start; see $tmp/dockerd.log" >&2
  fi
fi
