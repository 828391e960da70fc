# Helpers shared by the bench scripts; sourced, not run.

# Waits up to 10 s for an engine to answer /_ping on the unix socket $1.
waitsock() {
  for _ in $(seq 1 200); do
    curl -sf --unix-socket "$1" http://d/_ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

# Median in ms of $N runs of a command, after one warm-up run that must succeed.
measure() {
  local times=() t0 t1
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
  for _ in $(seq 1 "$N"); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}
