#!/usr/bin/env bash
# Pull and push time of a ~40 MB image of incompressible data (one imported layer of four files) over loopback:
#   - wharf daemon push/pull against `wharf registry serve`, and against Debian's docker-registry when installed;
#   - dockerd doing the same against the same registries, when dockerd is installed;
#   - skopeo copying the image out of each registry (the same client reading from both servers).
#   bench/distribution.sh [N]     N rounds each (default 3); prints the median in ms
# Everything runs on temporary roots and is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3}
tmp=$(mktemp -d /tmp/wharf-distbench.XXXXXX)
sock="$tmp/wharf.sock"
br=wdb$$
br=${br:0:15}
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  grep " $tmp" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  ip link del "$br" 2>/dev/null
  node_modules/.bin/node -e "import('./src/netdrv/index.ts').then((m) => m.removeDaemonRules('$br'))" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
export DOCKER_CONFIG="$tmp/docker-config"
free_port() { node_modules/.bin/node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

bin/wharf daemon --data-root "$tmp/data" --exec-root "$tmp/exec" -H "unix://$sock" --bridge "$br" --bip 10.251.$((RANDOM % 250)).1/24 >"$tmp/daemon.log" 2>&1 &
pids+=($!)
wport=$(free_port)
bin/wharf registry serve --addr "127.0.0.1:$wport" --root "$tmp/wreg" >"$tmp/wreg.log" 2>&1 &
pids+=($!)
regs=("127.0.0.1:$wport")
names=("wharf-registry")
if [ -x /usr/bin/docker-registry ]; then
  dport=$(free_port)
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$tmp/dreg" "$dport" >"$tmp/dreg.yml"
  /usr/bin/docker-registry serve "$tmp/dreg.yml" >"$tmp/dreg.log" 2>&1 &
  pids+=($!)
  regs+=("127.0.0.1:$dport")
  names+=("docker-registry")
fi
for _ in $(seq 1 200); do curl -sf --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && break; sleep 0.05; done
for r in "${regs[@]}"; do for _ in $(seq 1 200); do curl -sf "http://$r/v2/" >/dev/null && break; sleep 0.05; done; done

# The image: four files of random data in one imported layer (a multi-layer image needs build or commit).
D=(docker -H "unix://$sock")
mkdir -p "$tmp/ctx"
for i in 1 2 3 4; do
  head -c $((10 << 20)) /dev/urandom >"$tmp/ctx/layer$i"
done
tar -C "$tmp/ctx" -cf "$tmp/l1.tar" layer1 layer2 layer3 layer4
"${D[@]}" import "$tmp/l1.tar" bench/img:1 >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }

for idx in "${!regs[@]}"; do
  r=${regs[$idx]}
  push=(); pull=(); sko=()
  for round in $(seq 1 "$N"); do
    "${D[@]}" tag bench/img:1 "$r/bench/img:$round" >/dev/null
    push+=($(ms "${D[@]}" push "$r/bench/img:$round"))
    "${D[@]}" rmi -f "$r/bench/img:$round" bench/img:1 >/dev/null 2>&1 || true
    pull+=($(ms "${D[@]}" pull "$r/bench/img:$round"))
    "${D[@]}" tag "$r/bench/img:$round" bench/img:1 >/dev/null
    if command -v skopeo >/dev/null; then
      rm -rf "$tmp/oci"
      sko+=($(ms skopeo copy --src-tls-verify=false "docker://$r/bench/img:$round" "oci:$tmp/oci:x"))
    fi
  done
  echo "wharf daemon -> ${names[$idx]}: push $(printf '%s\n' "${push[@]}" | median) ms, pull $(printf '%s\n' "${pull[@]}" | median) ms"
  [ ${#sko[@]} -gt 0 ] && echo "skopeo copy from ${names[$idx]}: $(printf '%s\n' "${sko[@]}" | median) ms"
done

if command -v dockerd >/dev/null && [ -z "${SKIP_DOCKERD:-}" ]; then
  dsock="$tmp/dockerd.sock"
  dockerd --data-root "$tmp/dockerd" --exec-root "$tmp/dockerd-exec" -H "unix://$dsock" --pidfile "$tmp/dockerd.pid" \
    --bridge none --iptables=false >"$tmp/dockerd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do curl -sf --unix-socket "$dsock" http://d/_ping >/dev/null 2>&1 && break; sleep 0.1; done
  DD=(docker -H "unix://$dsock")
  r=${regs[0]}
  "${DD[@]}" pull "$r/bench/img:1" >/dev/null
  push=(); pull=()
  for round in $(seq 1 "$N"); do
    "${DD[@]}" tag "$r/bench/img:1" "$r/bench/dockerd:$round" >/dev/null
    push+=($(ms "${DD[@]}" push "$r/bench/dockerd:$round"))
    "${DD[@]}" rmi -f "$r/bench/dockerd:$round" "$r/bench/img:1" >/dev/null 2>&1 || true
    "${DD[@]}" image prune -af >/dev/null 2>&1 || true
    pull+=($(ms "${DD[@]}" pull "$r/bench/dockerd:$round"))
    "${DD[@]}" tag "$r/bench/dockerd:$round" "$r/bench/img:1" >/dev/null
  done
  echo "dockerd -> wharf-registry: push $(printf '%s\n' "${push[@]}" | median) ms, pull $(printf '%s\n' "${pull[@]}" | median) ms"
fi
