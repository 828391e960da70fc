#!/usr/bin/env bash
# Sets wharf up on a fresh machine: Debian packages, the pinned npm packages (Node 24 among them), the build.
#   scripts/setup.sh           set up only
#   scripts/setup.sh --start   set up, start the daemon (default data root and socket) and import busybox:latest
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(runc runsc conmon busybox-static iproute2 iptables tini catatonit curl openssl docker-compose docker-registry skopeo chromium gcc libc6-dev debootstrap python3-docker)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Install only when the lockfile changed since the last install: it is the slow step. `npm install` follows
# the lockfile; `npm ci` would refuse it, as this npm leaves other platforms' optional packages out of it.
stamp=node_modules/.wharf-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm install --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
npm run --silent build

if [ "${1:-}" = "--start" ]; then
  sock=/run/wharf/wharf.sock
  if [ -S "$sock" ] && curl -sf --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1; then
    echo "setup: a daemon already answers on $sock" >&2
  else
    mkdir -p /var/log
    nohup bin/wharf daemon >>/var/log/wharf.log 2>&1 &
    for _ in $(seq 1 100); do
      curl -sf --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    curl -sf --unix-socket "$sock" http://docker/_ping >/dev/null || { echo "setup: daemon did not start; see /var/log/wharf.log" >&2; exit 1; }
    echo "setup: daemon running (pid $(cat /run/wharf/wharf.pid)), socket $sock, log /var/log/wharf.log" >&2
  fi
  WHARF_HOST="unix://$sock" scripts/make-busybox-image.sh
fi
