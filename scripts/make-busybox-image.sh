#!/usr/bin/env bash
# Makes the busybox:latest test image from Debian's busybox-static and imports it into the daemon at
# WHARF_HOST (default unix:///run/wharf/wharf.sock). With --tar FILE it only writes the rootfs tar.
set -euo pipefail
cd "$(dirname "$0")/.."
out=""
if [ "${1:-}" = "--tar" ]; then out="$2"; fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,home,var/spool/mail,var/www,tmp,proc,sys,dev}
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp /bin/busybox "$root/bin/busybox"
# Every applet as a hard link in /bin, as the upstream busybox image lays them out.
for a in $(/bin/busybox --list); do
  [ "$a" = busybox ] || ln "$root/bin/busybox" "$root/bin/$a"
done
cat >"$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
wharf:x:1000:1000:wharf test user:/home/wharf:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat >"$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:8:
www-data:x:33:
operator:x:37:
users:x:100:
wharf:x:1000:
extra:x:1001:wharf
nogroup:x:65534:
G
touch "$root/etc/hostname" "$root/etc/hosts" "$root/etc/resolv.conf"
mkdir -p "$root/home/wharf" && chown 1000:1000 "$root/home/wharf"

tarfile="${out:-$root.tar}"
tar --numeric-owner --sort=name --mtime='2024-01-01 00:00:00' -C "$root" -cf "$tarfile" .
if [ -n "$out" ]; then exit 0; fi
trap 'rm -rf "$root" "$root.tar"' EXIT
bin/wharf import -c 'CMD ["sh"]' "$tarfile" busybox:latest
