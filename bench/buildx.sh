#!/usr/bin/env bash
# `docker buildx build` (BuildKit's client, docker driver) on wharf and on dockerd, same context, side by side:
# cold (--no-cache), fully cached, and after one copied file changed; the median of N runs each (N=5 unless
# set). The context is a 50 MB tree of 2000 files. buildx is not in the repo: point BUILDX at a docker-buildx
# plugin built by hand (default /work/tools/dockercfg/cli-plugins/docker-buildx); without one this says so and
# stops. Everything it starts (daemons, mounts, temp dirs) is stopped and removed on exit.
#   bench/buildx.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
BUILDX=${BUILDX:-/work/tools/dockercfg/cli-plugins/docker-buildx}
N=${N:-5}
[ -x "$BUILDX" ] || { echo "no buildx plugin at $BUILDX (set BUILDX)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/wharf-bench-buildx.XXXXXX)
sock="$tmp/wharf.sock"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  grep " $tmp" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del wbenchx1 2>/dev/null || true
  node_modules/.bin/node -e "import('./src/netdrv/index.ts').then((m) => m.removeDaemonRules('wbenchx1'))" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export DOCKER_CONFIG="$tmp/config"
mkdir -p "$DOCKER_CONFIG/cli-plugins"
ln -s "$BUILDX" "$DOCKER_CONFIG/cli-plugins/docker-buildx"

bin/wharf daemon --data-root "$tmp/data" --exec-root "$tmp/exec" -H "unix://$sock" --bridge wbenchx1 >"$tmp/daemon.log" 2>&1 &
pids+=($!)
waitsock "$sock"
scripts/make-busybox-image.sh --tar "$tmp/bb.tar" >/dev/null
docker -H "unix://$sock" import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null

ctx="$tmp/ctx"
for d in $(seq 1 20); do
  mkdir -p "$ctx/src/d$d"
  for f in $(seq 1 100); do head -c 25600 /dev/urandom >"$ctx/src/d$d/f$f"; done
done
echo v1 >"$ctx/app.conf"
cat >"$ctx/Dockerfile" <<'DF'
FROM busybox:latest
RUN mkdir -p /app && echo built > /app/stamp
COPY src/ /app/src/
COPY app.conf /app/
RUN du -s /app > /app/size
CMD ["cat", "/app/size"]
DF

declare -A result
order=()
bench() { # name, docker -H <socket>
  local name=$1
  shift
  # dockerd here has no bridge (--bridge none): RUN steps without a network on both engines.
  local b=("$@" buildx build --network none --load -q -t benchx:1)
  echo v1 >"$ctx/app.conf"
  local cold cached changed
  cold=$(measure "${b[@]}" --no-cache "$ctx")
  cached=$(measure "${b[@]}" "$ctx")
  # Each run changes the file again, so each rebuilds from COPY app.conf on.
  changed=$(measure sh -c 'date +%s%N >"$0/app.conf" && exec "$@"' "$ctx" "${b[@]}" "$ctx")
  result[$name]="$cold $cached $changed"
  order+=("$name")
}
bench "buildx → wharf" docker -H "unix://$sock"
if command -v dockerd >/dev/null; then
  dockerd --data-root "$tmp/ddata" --exec-root "$tmp/dexec" -H "unix://$tmp/docker.sock" --pidfile "$tmp/dockerd.pid" \
    --bridge none --iptables=false --ip-forward=false --containerd-namespace wbenchx --containerd-plugins-namespace wbenchxp \
    >"$tmp/dockerd.log" 2>&1 &
  pids+=($!)
  if waitsock "$tmp/docker.sock"; then
    docker -H "unix://$tmp/docker.sock" import -c 'CMD ["sh"]' "$tmp/bb.tar" busybox:latest >/dev/null
    bench "buildx → dockerd (BuildKit)" docker -H "unix://$tmp/docker.sock"
  else
    echo "dockerd did not start; see $tmp/dockerd.log" >&2
  fi
fi

echo "buildx build --load, 50 MB context of 2000 files, median of $N"
printf '%-30s %10s %10s %14s\n' "engine" "cold ms" "cached ms" "1 changed ms"
for k in "${order[@]}"; do
  read -r a b c <<<"${result[$k]}"
  printf '%-30s %10s %10s %14s\n' "$k" "$a" "$b" "$c"
done
