#!/usr/bin/env bash
# Sets wharf up on a fresh machine: Debian packages, the pinned npm packages (Node 24 among them), the build.
#   scripts/setup.sh           set up only
#   scripts/setup.sh --start   set up, start the daemon (default data root and socket) and import busybox:latest
#   scripts/setup.sh --rootless USER   prepare USER to run a rootless daemon (only that; see setup_rootless)
set -euo pipefail
cd "$(dirname "$0")/.."

# A user who runs `wharf daemon` themselves gets a rootless daemon (src/daemon/rootless.ts). What that needs
# from root, once: the programs, subordinate id ranges, a runtime dir, a usable /dev/net/tun.
setup_rootless() {
  local user=$1 uid gid
  uid=$(id -u "$user") || { echo "setup: no user $user" >&2; exit 1; }
  gid=$(id -g "$user")
  local need=()
  for p in uidmap slirp4netns fuse-overlayfs tini runc conmon iptables; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if ((${#need[@]})); then
    echo "setup: installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  # 65536 subordinate ids each, after every range already given out (as useradd would pick them); the
  # same numbers for uids and gids, so a container's uid N and gid N land on the same host number.
  local f start
  touch /etc/subuid /etc/subgid
  start=$(awk -F: 'BEGIN { m = 100000 } NF == 3 && $2 + $3 > m { m = $2 + $3 } END { print m }' /etc/subuid /etc/subgid)
  for f in /etc/subuid /etc/subgid; do
    if ! grep -qE "^($user|$uid):[0-9]+:[0-9]+$" "$f"; then
      if [ "$f" = /etc/subuid ]; then usermod --add-subuids "$start-$((start + 65535))" "$user"
      else usermod --add-subgids "$start-$((start + 65535))" "$user"; fi
      echo "setup: $f: $user gets $start-$((start + 65535))" >&2
    fi
  done
  # No systemd-logind here to make it at login (nor linger to keep it): /run/user/UID by hand, as logind would.
  install -d -m 0700 -o "$uid" -g "$gid" "/run/user/$uid"
  # Without udev the node is 0600 root: slirp4netns, running as the user, could not open it. 0666 is what
  # udev gives it on Debian; opening it grants nothing without CAP_NET_ADMIN in a network namespace.
  if [ ! -c /dev/net/tun ]; then mkdir -p /dev/net && mknod -m 0666 /dev/net/tun c 10 200; fi
  chmod 0666 /dev/net/tun
  # Likewise /dev/fuse, for fuse-overlayfs (the fallback on kernels without overlayfs in user namespaces).
  if [ -c /dev/fuse ]; then chmod 0666 /dev/fuse; fi
  if [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo 1)" != 1 ]; then
    sysctl -qw kernel.unprivileged_userns_clone=1
  fi
  local wharf
  wharf="$(pwd)/bin/wharf"
  runuser -u "$user" -- test -x "$wharf" -a -r dist/wharf.mjs ||
    echo "setup: warning: $user cannot run $wharf (a directory above it is not readable and searchable by them)" >&2
  # As Docker's rootless setup tool: a docker CLI context for the user's socket (not made current).
  if command -v docker >/dev/null; then
    runuser -u "$user" -- env HOME="$(getent passwd "$user" | cut -d: -f6)" docker context inspect wharf-rootless >/dev/null 2>&1 ||
      runuser -u "$user" -- env HOME="$(getent passwd "$user" | cut -d: -f6)" docker context create wharf-rootless \
        --description "rootless wharf daemon" --docker "host=unix:///run/user/$uid/wharf.sock" >/dev/null
  fi
  cat <<EOT
setup: $user may now run a rootless wharf daemon. As $user:
  export XDG_RUNTIME_DIR=/run/user/$uid
  $wharf daemon &          # data ~/.local/share/wharf, socket \$XDG_RUNTIME_DIR/wharf.sock
  export DOCKER_HOST=unix://\$XDG_RUNTIME_DIR/wharf.sock   # the docker CLI (or: docker context use wharf-rootless;
                                                          # the wharf CLI finds the socket itself)
  docker run --rm -p 8080:80 busybox httpd -f -p 80      # published on the host's ports, as $user
EOT
}

if [ "${1:-}" = "--rootless" ]; then
  [ -n "${2:-}" ] || { echo "usage: scripts/setup.sh --rootless USER" >&2; exit 2; }
  setup_rootless "$2"
  exit 0
fi

packages=(runc runsc conmon busybox-static iproute2 iptables tini catatonit containernetworking-plugins curl openssl docker-compose docker-registry skopeo chromium gcc libc6-dev debootstrap python3-docker uidmap slirp4netns openssh-client)
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

# wharf as the docker CLI's compose plugin (`docker compose ...`); a compose plugin of someone else's is left alone.
plugins=/usr/local/lib/docker/cli-plugins
current=$(readlink "$plugins/docker-compose" 2>/dev/null || true)
if { [ ! -e "$plugins/docker-compose" ] && [ ! -L "$plugins/docker-compose" ]; } || [ "${current##*/}" = wharf-compose-plugin ]; then
  mkdir -p "$plugins"
  ln -sfn "$(pwd)/bin/wharf-compose-plugin" "$plugins/docker-compose"
else
  echo "setup: $plugins/docker-compose is another compose plugin; left as it is" >&2
fi

if [ "${1:-}" = "--start" ]; then
  sock=/run/wharf/wharf.sock
  if [ -S "$sock" ] && curl -sf --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1; then
    echo "setup: a daemon already answers on $sock" >&2
  else
    mkdir -p /var/log
    # Also /var/run/docker.sock when nothing else answers there, for tools that hard-code it.
    nohup bin/wharf daemon --docker-socket /var/run/docker.sock >>/var/log/wharf.log 2>&1 &
    for _ in $(seq 1 100); do
      curl -sf --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    curl -sf --unix-socket "$sock" http://docker/_ping >/dev/null || { echo "setup: daemon did not start; see /var/log/wharf.log" >&2; exit 1; }
    echo "setup: daemon running (pid $(cat /run/wharf/wharf.pid)), socket $sock, log /var/log/wharf.log" >&2
  fi
  WHARF_HOST="unix://$sock" scripts/make-busybox-image.sh
fi
