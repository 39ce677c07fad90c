#!/usr/bin/env bash
# bench/run.sh BUILD_DIR [GROUP...] — runs lanes' benchmarks and their peers in one go
# and writes docs/benchmarks.md (what `make bench` does after building BUILD_DIR with
# -DLANES_BUILD_BENCH=ON).
#
# The work is split into workload groups. Each group is one function, group_<name>,
# that runs lanes' benchmark and every peer of that group, keeps their raw output in
# BUILD_DIR/bench-results/<name>/, and writes its part of the document with
# `bench/report.py <name>` into BUILD_DIR/bench-results/parts/<NN>-<name>.md. The
# document is the header followed by the parts in name order. To add a group: write
# group_<name> and its renderer in report.py, and list it in ALL_GROUPS.
#
# Environment:
#   BENCH_REPS=3        runs of each workload; every table shows the best one
#   BENCH_DOC=FILE      where to write (default docs/benchmarks.md)
#   BENCH_PROFILE=auto  profile lanes' side with perf where perf works (0: never)
#   BENCH_POOL_ROUNDS=3 interleaved rounds of the thread_pool group's C++ programs
#   PYTHON=python3, GO=go
#
# A peer that is missing or fails does not stop the run: its cells say so.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:?usage: bench/run.sh BUILD_DIR [GROUP...]}" && pwd)
shift
ALL_GROUPS=(core procpool echo files tls thread_pool mpi)
GROUPS_TO_RUN=("$@")
((${#GROUPS_TO_RUN[@]})) || GROUPS_TO_RUN=("${ALL_GROUPS[@]}")

REPS=${BENCH_REPS:-3}
DOC=${BENCH_DOC:-$ROOT/docs/benchmarks.md}
PYTHON=${PYTHON:-python3}
GO=${GO:-go}
OUT=$BUILD/bench-results
PARTS=$OUT/parts
REPORT=("$PYTHON" "$ROOT/bench/report.py")

log() { echo "==> $*" >&2; }

# run_json FILE PEER WORKLOAD CMD... — runs a peer, its JSON lines into FILE. On failure
# FILE gets one line {"peer", "error"} naming what failed, and the run goes on.
run_json() {
  local file=$1 peer=$2
  shift 2
  log "$peer: $*"
  if ! "$@" >"$file" 2>"$file.stderr"; then
    local why
    why=$(tail -n 3 "$file.stderr" | tr '\n"\\' "   " | cut -c1-300)
    log "$peer FAILED: $why"
    printf '{"peer": "%s", "error": "failed: %s"}\n' "$peer" "$why" >>"$file"
  fi
}

# missing FILE PEER WHY — records a peer that could not run at all.
missing() {
  log "$2: skipped ($3)"
  printf '{"peer": "%s", "error": "%s"}\n' "$2" "$3" >"$1"
}

perf_works() {
  [[ ${BENCH_PROFILE:-auto} != 0 ]] && command -v perf >/dev/null 2>&1 || return 1
  local data ok=0
  data=$(mktemp)
  perf record -q -o "$data" -- true >/dev/null 2>&1 || ok=1
  rm -f "$data"
  return $ok
}

# profile FILE CMD... — top symbols of CMD by CPU time (perf), or nothing.
profile() {
  local file=$1
  shift
  perf_works || return 0
  log "perf: $*"
  local data
  data=$(mktemp)
  if perf record -q -F 1999 -o "$data" -- "$@" >/dev/null 2>&1; then
    perf report -i "$data" --no-children --stdio --sort dso,symbol --percent-limit 1.5 \
      2>/dev/null | grep -E '^ +[0-9.]+%' | head -n 14 >"$file" || true
  fi
  rm -f "$data"
}

# ---- machine information ----------------------------------------------------------
# The commit measured; BENCH_COMMIT names it when the tree is a copy without .git.
describe_commit() {
  local commit
  if [[ -n ${BENCH_COMMIT:-} ]]; then
    echo "$BENCH_COMMIT"
  elif commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
    [[ -z $(git -C "$ROOT" status --porcelain -- include src bench 2>/dev/null) ]] ||
      commit="$commit (with uncommitted changes to include/, src/ or bench/)"
    echo "$commit"
  else
    echo "?"
  fi
}

part_header() {
  local cxx boost bench_ver py go_ver
  cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt" | head -n1)
  boost=$(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp \
    2>/dev/null | tr _ . || true)
  bench_ver=$(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null || echo "?")
  py=$("$PYTHON" --version 2>&1 || echo "not found")
  go_ver=$("$GO" version 2>/dev/null || echo "not found")
  {
    echo "# lanes benchmarks"
    echo
    echo "Written by \`bench/run.sh\` (\`make bench\`); do not edit by hand. Every figure"
    echo "below comes from one run of that script, lanes and its peers side by side."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
    echo "| lanes commit | $(describe_commit) |"
    echo "| CPU | $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')," \
      "$(nproc) cores online |"
    echo "| memory | $(free -g | awk '/^Mem:/ {print $2 " GiB"}') |"
    echo "| kernel | $(uname -sr) |"
    echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
    echo "| compiler (lanes, C++ peers) | $("$cxx" --version | head -n1) |"
    echo "| flags | CMake Release ($(sed -n 's/^CMAKE_CXX_FLAGS_RELEASE:[A-Z]*=//p' \
      "$BUILD/CMakeCache.txt")) |"
    echo "| Google Benchmark | libbenchmark-dev $bench_ver |"
    echo "| Boost (Asio) | ${boost:-not found} |"
    echo "| Python | $py |"
    echo "| Go | $go_ver |"
    echo
    echo "How to read: each workload ran $REPS times and the tables show the best run."
    echo "Times per task or per await are CPU time (user + system) of the one thread"
    echo "that runs the loop: those workloads never wait, and on a shared 2-core machine"
    echo "other processes inflate wall time, not CPU time. Times of the sleep workloads"
    echo "are wall time. Ratios are \"peer / lanes\" from the same run: above 1, lanes"
    echo "is faster (or smaller). Absolute times move from run to run; ratios less."
    echo
  } >"$PARTS/00-header.md"
}

# ---- group: core — spawn + gather, await chains, 100k sleeps -----------------------
group_core() {
  local dir=$OUT/core
  rm -rf "$dir"
  mkdir -p "$dir"

  log "lanes: bench_core"
  if [[ -x $BUILD/bench/bench_core ]]; then
    "$BUILD/bench/bench_core" --benchmark_repetitions="$REPS" \
      --benchmark_out="$dir/lanes.json" --benchmark_out_format=json >&2 ||
      missing "$dir/lanes.json.err" lanes "bench_core failed"
  else
    missing "$dir/lanes.json.err" lanes "bench_core not built"
  fi

  if [[ -x $BUILD/bench/peer_asio_spawn ]]; then
    run_json "$dir/asio.jsonl" asio "$BUILD/bench/peer_asio_spawn" --reps "$REPS"
  else
    missing "$dir/asio.jsonl" asio "peer_asio_spawn not built (Boost headers missing?)"
  fi

  if command -v "$PYTHON" >/dev/null 2>&1; then
    run_json "$dir/asyncio.jsonl" asyncio "$PYTHON" "$ROOT/bench/peers/asyncio_spawn.py" \
      --reps "$REPS"
  else
    missing "$dir/asyncio.jsonl" asyncio "$PYTHON not found"
  fi

  if command -v "$GO" >/dev/null 2>&1; then
    # One file, standard library only: nothing to download (GOPROXY=off makes sure).
    if (cd "$ROOT/bench/peers" && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$BUILD/go-cache" \
      "$GO" build -o "$BUILD/bench/peer_sleep_go" sleep_go.go) 2>"$dir/go.build.stderr"; then
      run_json "$dir/go.jsonl" go "$BUILD/bench/peer_sleep_go" -reps "$REPS"
    else
      missing "$dir/go.jsonl" go "go build failed: $(head -c 200 "$dir/go.build.stderr" | tr '\n"' '  ')"
    fi
  else
    missing "$dir/go.jsonl" go "go not found"
  fi

  if [[ -x $BUILD/bench/peer_thread_sleep ]]; then
    run_json "$dir/threads.jsonl" threads "$BUILD/bench/peer_thread_sleep" --reps "$REPS"
  else
    missing "$dir/threads.jsonl" threads "peer_thread_sleep not built"
  fi

  if [[ -x $BUILD/bench/bench_core ]]; then
    profile "$dir/profile_spawn.txt" "$BUILD/bench/bench_core" \
      --benchmark_filter='BM_spawn_gather/void' --benchmark_min_time=2
    profile "$dir/profile_sleep.txt" "$BUILD/bench/bench_core" \
      --benchmark_filter='BM_sleep_100k' --benchmark_repetitions=5
  fi

  "${REPORT[@]}" core "$dir" >"$PARTS/20-core.md"
}

# ---- group: procpool — process pool round trip, map by chunk size, fib; codec vs cereal ---
# bench/procpool.sh runs lanes and Python side by side and renders its own section.
group_procpool() {
  local dir=$OUT/procpool
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! BENCH_REPS="$REPS" PYTHON="$PYTHON" bash "$ROOT/bench/procpool.sh" "$BUILD" "$dir" \
    >"$PARTS/50-procpool.md"; then
    log "procpool FAILED"
    printf '## Process pool\n\nbench/procpool.sh failed; see %s.\n\n' "$dir" \
      >"$PARTS/50-procpool.md"
  fi
}

# ---- group: echo — TCP echo, 100 connections, 64 B ping-pong: lanes, Asio, libuv, Node,
# asyncio, uvloop. bench/echo.sh runs every server against one load generator and renders
# its own section.
group_echo() {
  local dir=$OUT/echo
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! BENCH_REPS="$REPS" bash "$ROOT/bench/echo.sh" "$BUILD" "$dir" >"$PARTS/40-echo.md"; then
    log "echo FAILED"
    printf '## TCP echo\n\nbench/echo.sh failed; see %s.\n\n' "$dir" >"$PARTS/40-echo.md"
  fi
}

# ---- group: files — 64 tasks doing 4 KiB random reads and 1 MiB sequential writes: lanes
# on io_uring, lanes via threads (epoll), asyncio + aiofiles, fio's io_uring engine.
# bench/files.sh runs every side and renders its own section.
group_files() {
  local dir=$OUT/files
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! BENCH_REPS="$REPS" bash "$ROOT/bench/files.sh" "$BUILD" "$dir" >"$PARTS/45-files.md"; then
    log "files FAILED"
    printf '## Files\n\nbench/files.sh failed; see %s.\n\n' "$dir" >"$PARTS/45-files.md"
  fi
}

# ---- group: tls — the echo over TLS (lanes, Asio ssl::stream, asyncio ssl, OpenSSL
# alone) and full handshakes per server core. bench/tls.sh measures; report.py renders.
group_tls() {
  local dir=$OUT/tls
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! BENCH_REPS="$REPS" bash "$ROOT/bench/tls.sh" "$BUILD" "$dir"; then
    log "tls FAILED"
  fi
  "${REPORT[@]}" tls "$dir" >"$PARTS/45-tls.md"
}

# ---- group: thread_pool — 1M tiny tasks, fork-join fib(32): lanes' ThreadPoolExecutor,
# oneTBB, OpenMP tasks, Python's concurrent.futures (bench/pool_work.hpp says what is timed).
# The C++ programs run in BENCH_POOL_ROUNDS interleaved rounds (default 3), each doing
# REPS tiny-task runs and 40 x REPS fib runs (fib(32) takes ~6 ms); report.py keeps the
# best of everything, so a burst of load hits every side alike. Python runs once, on
# Debian's /usr/bin/python3 when present.
group_thread_pool() {
  local dir=$OUT/thread_pool
  rm -rf "$dir"
  mkdir -p "$dir"
  local rounds=${BENCH_POOL_ROUNDS:-3} fib_reps=$((REPS * 40)) py=/usr/bin/python3 round name
  [[ -x $py ]] || py=$PYTHON
  cut -d' ' -f1-3 /proc/loadavg >"$dir/load_start"
  for ((round = 1; round <= rounds; round++)); do
    for name in bench_thread_pool peer_pool_tbb peer_pool_openmp; do
      local peer=${name#peer_pool_}
      [[ $name == bench_thread_pool ]] && peer=lanes
      if [[ -x $BUILD/bench/$name ]]; then
        run_json "$dir/$peer.$round.jsonl" "$peer" "$BUILD/bench/$name" --reps "$REPS" \
          --fib-reps "$fib_reps"
      else
        missing "$dir/$peer.$round.jsonl" "$peer" "$name not built (oneTBB or OpenMP missing?)"
      fi
    done
  done
  if command -v "$py" >/dev/null 2>&1; then
    run_json "$dir/python.1.jsonl" python "$py" "$ROOT/bench/peers/pool_python.py" --reps "$REPS"
  else
    missing "$dir/python.1.jsonl" python "$py not found"
  fi
  cut -d' ' -f1-3 /proc/loadavg >"$dir/load_end"

  if [[ -x $BUILD/bench/bench_thread_pool ]]; then
    profile "$dir/profile_tiny.txt" "$BUILD/bench/bench_thread_pool" --only tiny --reps 3
    profile "$dir/profile_fib.txt" "$BUILD/bench/bench_thread_pool" --only fib --fib-reps 300
  fi

  "${REPORT[@]}" thread_pool "$dir" >"$PARTS/45-thread_pool.md"
}

# ---- group: mpi — MPIPoolExecutor on 3 and 5 ranks beside mpi4py.futures, the process
# pool and a raw MPI ping-pong. bench/mpi.sh runs them and renders its own section.
group_mpi() {
  local dir=$OUT/mpi
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! BENCH_REPS="$REPS" bash "$ROOT/bench/mpi.sh" "$BUILD" "$dir" >"$PARTS/60-mpi.md"; then
    log "mpi FAILED"
    printf '## MPI\n\nbench/mpi.sh failed; see %s.\n\n' "$dir" >"$PARTS/60-mpi.md"
  fi
}

# ---- main -------------------------------------------------------------------------
mkdir -p "$PARTS"
rm -f "$PARTS"/*.md
part_header
for group in "${GROUPS_TO_RUN[@]}"; do
  if ! declare -F "group_$group" >/dev/null; then
    echo "bench/run.sh: unknown group '$group' (known: ${ALL_GROUPS[*]})" >&2
    exit 2
  fi
  "group_$group"
done
mkdir -p "$(dirname "$DOC")"
cat "$PARTS"/*.md >"$DOC"
log "wrote $DOC"
