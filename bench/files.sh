#!/usr/bin/env bash
# bench/files.sh BUILD_DIR [OUT_DIR] — the file benchmark: 64 concurrent tasks doing
# 4 KiB reads at random offsets of a 256 MiB file (cached: this measures the cost of
# each operation, not the disk), and 1 MiB writes that fill a sparse 512 MiB file in
# order. Prints a markdown section on stdout.
#
# Sides: lanes on io_uring (BUILD_DIR/bench/file_lanes, operations in the ring),
# lanes via threads (the same program on epoll: the default executor), Python
# asyncio + aiofiles (bench/peers/file_aiofiles.py, Debian's python3-aiofiles), and
# fio's io_uring engine at queue depth 64 (Debian's fio), the limit.
#
# Environment: BENCH_REPS (default 3; best run shown), FILE_SECONDS (5), FILE_TASKS
# (64), FILE_READ_MIB (256), FILE_WRITE_MIB (512), FILE_DIR (default OUT_DIR),
# PYTHON (default /usr/bin/python3, which has aiofiles on Debian).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:?usage: bench/files.sh BUILD_DIR [OUT_DIR]}" && pwd)
OUT=${2:-$BUILD/bench-results/files}
REPS=${BENCH_REPS:-3}
SECS=${FILE_SECONDS:-5}
TASKS=${FILE_TASKS:-64}
READ_MIB=${FILE_READ_MIB:-256}
WRITE_MIB=${FILE_WRITE_MIB:-512}
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
mkdir -p "$OUT"
DIR=${FILE_DIR:-$OUT}
READ_FILE=$DIR/read.dat
WRITE_FILE=$DIR/write.dat
LANES=$BUILD/bench/file_lanes
log() { echo "==> files: $*" >&2; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
trap 'rm -f "$READ_FILE" "$WRITE_FILE"' EXIT

if [[ ! -x $LANES ]]; then
  printf '## Files\n\nNot run: %s is not built (configure with -DLANES_BUILD_BENCH=ON).\n\n' "$LANES"
  exit 0
fi
head -c $((READ_MIB << 20)) /dev/urandom >"$READ_FILE"
cat "$READ_FILE" >/dev/null  # in the page cache for every side alike

# side_cmd SIDE WORKLOAD — the command line of one run, or nothing if the side is missing.
side_cmd() {
  local side=$1 work=$2 amount path
  if [[ $work == randread ]]; then amount=$SECS path=$READ_FILE; else amount=$WRITE_MIB path=$WRITE_FILE; fi
  case $side in
    lanes_uring) echo "env LANES_BACKEND=io_uring $LANES $work $path $amount $TASKS" ;;
    lanes_threads) echo "env LANES_BACKEND=epoll $LANES $work $path $amount $TASKS" ;;
    aiofiles) "$PYTHON" -c 'import aiofiles' 2>/dev/null &&
      echo "$PYTHON $ROOT/bench/peers/file_aiofiles.py $work $path $amount $TASKS" ;;
    fio) command -v fio >/dev/null 2>&1 && echo fio ;;
  esac
  return 0
}

# run_fio WORKLOAD — fio's io_uring engine, one job at queue depth TASKS; prints key=value.
run_fio() {
  local json
  if [[ $1 == randread ]]; then
    json=$(fio --name=randread --filename="$READ_FILE" --rw=randread --bs=4k --ioengine=io_uring \
      --iodepth="$TASKS" --numjobs=1 --time_based --runtime="$SECS" --size="${READ_MIB}M" --invalidate=0 \
      --output-format=json 2>/dev/null) || { echo "error=fio-failed"; return 0; }
    "$PYTHON" -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]["read"]; print("iops=%.0f mib_per_s=%.1f" % (j["iops"], j["bw_bytes"] / 2**20))' <<<"$json"
  else
    json=$(fio --name=seqwrite --filename="$WRITE_FILE" --rw=write --bs=1M --ioengine=io_uring \
      --iodepth="$TASKS" --numjobs=1 --size="${WRITE_MIB}M" --end_fsync=0 \
      --output-format=json 2>/dev/null) || { echo "error=fio-failed"; return 0; }
    "$PYTHON" -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]["write"]; print("iops=%.0f mib_per_s=%.1f" % (j["iops"], j["bw_bytes"] / 2**20))' <<<"$json"
  fi
}

SIDES=(lanes_uring lanes_threads aiofiles fio)
WORKS=(randread seqwrite)
declare -A BEST NOTE
for ((rep = 1; rep <= REPS; rep++)); do
  for work in "${WORKS[@]}"; do
    for side in "${SIDES[@]}"; do
      cmd=$(side_cmd "$side" "$work")
      if [[ -z $cmd ]]; then NOTE[$side.$work]="not available"; continue; fi
      # Every side writes into the same kind of file: sparse, at its final size (fio
      # takes an existing file of the right size as it is). Extending writes, or
      # writes into fallocate'd (unwritten) extents, are serialised by the kernel.
      rm -f "$WRITE_FILE"
      truncate -s "${WRITE_MIB}M" "$WRITE_FILE"
      if [[ $side == fio ]]; then
        line=$(run_fio "$work") || line="error=fio-output"
      else
        # shellcheck disable=SC2086
        line=$($cmd 2>"$OUT/$side.$work.$rep.err") || line="error=exit-$?"
      fi
      echo "$side $work rep=$rep $line" >>"$OUT/raw.txt"
      log "$side $work #$rep: $line"
      key=$([[ $work == randread ]] && echo iops || echo mib_per_s)
      v=$(field "$key" "$line")
      if [[ -z $v ]]; then
        [[ -z ${BEST[$side.$work]:-} ]] && NOTE[$side.$work]="failed: $(field error "$line")"
        continue
      fi
      if [[ -z ${BEST[$side.$work]:-} ]] || awk -v a="$v" -v b="${BEST[$side.$work]}" 'BEGIN { exit !(a > b) }'; then
        BEST[$side.$work]=$v
        unset 'NOTE[$side.$work]'
      fi
    done
  done
done

label() {
  case $1 in
    lanes_uring) echo "lanes, io_uring (AsyncFile, operations in the loop's ring)" ;;
    lanes_threads) echo "lanes via threads (AsyncFile on epoll: the default executor)" ;;
    aiofiles) echo "Python asyncio + aiofiles $("$PYTHON" -c 'import importlib.metadata as m; print(m.version("aiofiles"))' 2>/dev/null)" ;;
    fio) echo "fio $(fio --version 2>/dev/null), io_uring engine, iodepth $TASKS (the limit)" ;;
  esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "" }'; }

echo "## Files"
echo
echo "$TASKS concurrent tasks on one loop. Random reads: 4 KiB at random aligned offsets of a"
echo "${READ_MIB} MiB file already in the page cache, for ${SECS} s (so the figure is the cost of"
echo "an operation, not the disk's). Sequential writes: 1 MiB blocks that fill a sparse ${WRITE_MIB} MiB"
echo "file (made with truncate for every side) in order (buffered, no fsync). Best of $REPS interleaved rounds; fio is one job with"
echo "$TASKS operations in flight."
echo
echo "| side | 4 KiB random reads/s | lanes io_uring ratio | 1 MiB sequential writes, MiB/s | lanes io_uring ratio |"
echo "|---|---:|---:|---:|---:|"
for side in "${SIDES[@]}"; do
  row="| $(label "$side") |"
  for work in "${WORKS[@]}"; do
    if [[ -n ${BEST[$side.$work]:-} ]]; then
      r=""
      [[ $side != lanes_uring && -n ${BEST[lanes_uring.$work]:-} ]] && r="$(ratio "${BEST[lanes_uring.$work]}" "${BEST[$side.$work]}")x"
      row+=" ${BEST[$side.$work]} | $r |"
    else
      row+=" ${NOTE[$side.$work]:-failed} | |"
    fi
  done
  echo "$row"
done
echo
# The goals of issue 13: random-read IOPS within 15% of fio's io_uring engine, >= 5x aiofiles.
u=${BEST[lanes_uring.randread]:-}
if [[ -n $u && -n ${BEST[fio.randread]:-} ]]; then
  r=$(ratio "$u" "${BEST[fio.randread]}")
  echo "Random reads, lanes io_uring vs fio io_uring (goal: within 15%, ratio >= 0.85): ${r} —" \
    "**$(awk -v x="$r" 'BEGIN { print (x >= 0.85) ? "met" : "missed" }')**."
fi
if [[ -n $u && -n ${BEST[aiofiles.randread]:-} ]]; then
  r=$(ratio "$u" "${BEST[aiofiles.randread]}")
  echo "Random reads, lanes io_uring vs aiofiles (goal: >= 5x): ${r}x —" \
    "**$(awk -v x="$r" 'BEGIN { print (x >= 5) ? "met" : "missed" }')**."
fi
echo
echo "Raw runs: \`$OUT/raw.txt\`."
echo
