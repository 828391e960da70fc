#!/usr/bin/env bash
# Build times of one context, side by side in one run: cold build, fully cached rebuild, and a rebuild after one
# copied file changed, for wharf (docker CLI, classic builder), dockerd's classic builder (started here on
# temporary roots) and `podman build`, when installed.
#   bench/build.sh
# Everything it starts (daemons, mounts, temp dirs) is stopped and removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
tmp=$(mktemp -d /tmp/wharf-bench-build.XXXXXX)
sock="$tmp/wharf.sock"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  grep " $tmp" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del wbench1 2>/dev/null || true
  node_modules/.bin/node -e "import('./src/netdrv/index.ts').then((m) => m.removeDaemonRules('wbench1'))" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

bin/wharf daemon --data-root "$tmp/data" --exec-root "$tmp/exec" -H "unix://$sock" --bridge wbench1 >"$tmp/daemon.log" 2>&1 &
pids+=($!)
waitsock "$sock"
scripts/make-busybox-image.sh --tar "$tmp/bb.tar" >/dev/null
docker -H "unix://$sock" import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null

ctx="$tmp/ctx"
mkdir -p "$ctx/src"
for i in $(seq 1 200); do head -c 4096 /dev/urandom | base64 >"$ctx/src/f$i.txt"; done
echo v1 >"$ctx/app.conf"
cat >"$ctx/Dockerfile" <<'DF'
FROM busybox:latest
ENV APP=/app
WORKDIR /app
RUN mkdir -p /app/data && echo built > /app/data/stamp
COPY src/ /app/src/
COPY app.conf /app/
RUN wc -c /app/app.conf > /app/size
LABEL bench=1
CMD ["cat", "/app/size"]
DF

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }

declare -A result
order=()
bench() { # name, build command prefix (context appended)
  local name=$1
  shift
  echo v1 >"$ctx/app.conf"
  local cold cached changed
  cold=$(ms "$@" --no-cache "$ctx")
  cached=$(ms "$@" "$ctx")
  echo v2 >"$ctx/app.conf"
  changed=$(ms "$@" "$ctx")
  result[$name]="$cold $cached $changed"
  order+=("$name")
}
bench "docker CLI → wharf" env DOCKER_BUILDKIT=0 docker -H "unix://$sock" build -t bench:1
if command -v dockerd >/dev/null; then
  dockerd --data-root "$tmp/ddata" --exec-root "$tmp/dexec" -H "unix://$tmp/docker.sock" --pidfile "$tmp/dockerd.pid" \
    --bridge none --iptables=false --ip-forward=false --containerd-namespace wbenchb --containerd-plugins-namespace wbenchbp \
    >"$tmp/dockerd.log" 2>&1 &
  pids+=($!)
  if waitsock "$tmp/docker.sock"; then
    docker -H "unix://$tmp/docker.sock" import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null
    bench "docker CLI → dockerd (classic)" env DOCKER_BUILDKIT=0 docker -H "unix://$tmp/docker.sock" build --network none -t bench:1
  else
    echo "dockerd did not start; see $tmp/dockerd.log" >&2
  fi
fi
if command -v podman >/dev/null; then
  proot="$tmp/podman"
  podman --root "$proot/root" --runroot "$proot/run" import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null
  bench "podman build" podman --root "$proot/root" --runroot "$proot/run" build --network none -t bench:1
fi

printf '%-32s %10s %10s %14s\n' "engine" "cold ms" "cached ms" "1 changed ms"
for k in "${order[@]}"; do
  read -r a b c <<<"${result[$k]}"
  printf '%-32s %10s %10s %14s\n' "$k" "$a" "$b" "$c"
done
