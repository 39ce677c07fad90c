#!/usr/bin/env bash
# bench/mpi.sh BUILD_DIR [OUT_DIR] — MPIPoolExecutor beside mpi4py.futures, lanes'
# ProcessPoolExecutor and a raw MPI ping-pong (the floor), on 3 and 5 ranks, in one run;
# prints a markdown section on stdout (bench/run.sh's group_mpi puts it into
# docs/benchmarks.md; bench/mpi_report.py renders it).
#
#   BUILD_DIR/bench/mpi_pingpong             raw MPI_Send/MPI_Recv round trip, rank 0 <-> 1
#   BUILD_DIR/bench/mpi_pool_bench           --pool mpi under mpirun; --pool processes alone
#   bench/peers/mpi4py_pool.py               mpi4py.futures under `python3 -m mpi4py.futures`
#
# Raw JSON lines go to OUT_DIR (default BUILD_DIR/bench-results/mpi).
# Environment: BENCH_REPS (default 3), MPI_RANKS (default "3 5"), MPIRUN (default mpirun).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:?usage: bench/mpi.sh BUILD_DIR [OUT_DIR]}" && pwd)
OUT=${2:-$BUILD/bench-results/mpi}
REPS=${BENCH_REPS:-3}
RANKS=${MPI_RANKS:-"3 5"}
MPIRUN=${MPIRUN:-mpirun}
PY=/usr/bin/python3  # Debian's python3-mpi4py lives there
[[ -x $PY ]] || PY=python3
mkdir -p "$OUT"

log() { echo "==> mpi: $*" >&2; }

MPIFLAGS=(--oversubscribe)
[[ $(id -u) -eq 0 ]] && MPIFLAGS+=(--allow-run-as-root)

# run FILE NAME CMD... — JSON lines of CMD into FILE (appended), or one {"error"} line.
run() {
  local file=$1 name=$2
  shift 2
  log "$name: $*"
  if ! timeout -k 10 900 "$@" >>"$file" 2>"$file.stderr"; then
    printf '{"peer": "%s", "error": "failed: %s"}\n' "$name" \
      "$(tail -n 2 "$file.stderr" | tr '\n"\\' '   ' | cut -c1-200)" >>"$file"
  fi
}

rm -f "$OUT"/*.jsonl "$OUT"/*.stderr
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if ! command -v "$MPIRUN" >/dev/null 2>&1; then
  echo '{"error": "mpirun not found (scripts/install-deps.sh installs openmpi-bin)"}' >"$OUT/errors.jsonl"
elif [[ ! -x $BUILD/bench/mpi_pool_bench ]]; then
  echo '{"error": "mpi_pool_bench not built (LANES_BUILD_BENCH=ON and LANES_WITH_MPI=ON)"}' \
    >"$OUT/errors.jsonl"
else
  for n in $RANKS; do
    run "$OUT/pingpong.jsonl" mpi-pingpong "$MPIRUN" "${MPIFLAGS[@]}" -n "$n" "$BUILD/bench/mpi_pingpong"
    run "$OUT/lanes-mpi.jsonl" lanes-mpi "$MPIRUN" "${MPIFLAGS[@]}" -n "$n" \
      "$BUILD/bench/mpi_pool_bench" --pool mpi --reps "$REPS"
    run "$OUT/lanes-processes.jsonl" lanes-processes "$BUILD/bench/mpi_pool_bench" \
      --pool processes --workers $((n - 1)) --reps "$REPS"
    if "$PY" -c 'import mpi4py' 2>/dev/null; then
      run "$OUT/mpi4py.jsonl" mpi4py "$MPIRUN" "${MPIFLAGS[@]}" -n "$n" "$PY" -m mpi4py.futures \
        "$ROOT/bench/peers/mpi4py_pool.py" --reps "$REPS"
    else
      echo '{"peer": "mpi4py", "error": "mpi4py not installed (python3-mpi4py)"}' >>"$OUT/mpi4py.jsonl"
    fi
  done
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
MPIVER=$("$MPIRUN" --version 2>/dev/null | head -n1 || echo "mpirun not found")
M4PVER=$("$PY" -c 'import mpi4py; print(mpi4py.__version__)' 2>/dev/null || echo "not installed")
python3 "$ROOT/bench/mpi_report.py" "$OUT" "$REPS" "$LOAD_START" "$LOAD_END" "$MPIVER" "$M4PVER"
