#!/usr/bin/env bash
# Peak memory with every catalogue layer loaded (issue 2, goal < 500 MB): starts
# `placemap serve` (release, all layers, default 256 MB tile cache, still empty) $RUNS times, reads
# VmHWM (the peak resident set, which includes start-up's transient buffers) and VmRSS once it
# answers /health, stops it, and prints the median.
# Usage: bench/startup_memory.sh   (env: RUNS [5], ADDR, BIN, DATA, OUT)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need curl; need bc
RUNS=${RUNS:-5}
echo "== start-up memory: $(loadavg)"
hwm=()
for i in $(seq 1 "$RUNS"); do
  start_server
  h=$(vm VmHWM); r=$(vm VmRSS)
  echo "run $i: VmHWM $h MB, VmRSS $r MB"
  hwm+=("$h")
  stop_server
done
printf '%s\n' "${hwm[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "STARTUP_MEMORY VmHWM median %.1f MB (min %.1f, max %.1f, %d runs)\n", v[int((NR + 1) / 2)], v[1], v[NR], NR }'
echo "== $(loadavg)"
