#!/usr/bin/env bash
# bench/echo.sh BUILD_DIR [OUT_DIR] — the TCP echo benchmark: one server loop thread,
# 100 connections, 64-byte ping-pong, a fixed time, the same load generator
# (BUILD_DIR/bench/echo_load) for every server. Prints a markdown section on stdout.
#
# Servers: lanes (BUILD_DIR/bench/echo_lanes), Boost.Asio C++20 coroutines
# (peer_echo_asio), libuv (peer_echo_libuv), Node.js (bench/peers/echo_node.js),
# Python asyncio and asyncio + uvloop (bench/peers/echo_asyncio.py). A server that is
# missing or fails is reported as such.
#
# With 2 cores the load generator fills one core: the server runs pinned to CPU 1
# and the generator to CPU 0 (when taskset works), and each server's CPU time per
# message (user + system, /proc/PID/stat, over the measured window) is reported
# beside its throughput — the fairer comparison when the generator is the limit.
#
# Environment: BENCH_REPS (default 3; the best run of each server is shown),
# ECHO_SECONDS (default 5), ECHO_WARMUP (default 1), ECHO_CONNECTIONS (100),
# ECHO_SIZE (64), ECHO_PORT (first port tried, default 19400), PYTHON (default
# /usr/bin/python3, which has uvloop on Debian), NODE (default node).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:?usage: bench/echo.sh BUILD_DIR [OUT_DIR]}" && pwd)
OUT=${2:-$BUILD/bench-results/echo}
REPS=${BENCH_REPS:-3}
SECONDS_RUN=${ECHO_SECONDS:-5}
WARMUP=${ECHO_WARMUP:-1}
CONNS=${ECHO_CONNECTIONS:-100}
SIZE=${ECHO_SIZE:-64}
PORT=${ECHO_PORT:-19400}
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
NODE=${NODE:-node}
LOAD=$BUILD/bench/echo_load
mkdir -p "$OUT"

log() { echo "==> echo: $*" >&2; }

PIN_SERVER=() PIN_LOAD=()
if taskset -c 1 true 2>/dev/null && taskset -c 0 true 2>/dev/null; then
  PIN_SERVER=(taskset -c 1) PIN_LOAD=(taskset -c 0)
fi

# server_cmd NAME — the command line of a server (PORT appended), or nothing if missing.
server_cmd() {
  case $1 in
    # The same lanes server on each loop backend (lanes/backend.hpp).
    lanes) [[ -x $BUILD/bench/echo_lanes ]] && echo "env LANES_BACKEND=epoll $BUILD/bench/echo_lanes" ;;
    lanes_uring) [[ -x $BUILD/bench/echo_lanes ]] && uring_ok && echo "env LANES_BACKEND=io_uring $BUILD/bench/echo_lanes" ;;
    asio) [[ -x $BUILD/bench/peer_echo_asio ]] && echo "$BUILD/bench/peer_echo_asio" ;;
    libuv) [[ -x $BUILD/bench/peer_echo_libuv ]] && echo "$BUILD/bench/peer_echo_libuv" ;;
    node) command -v "$NODE" >/dev/null 2>&1 && echo "$NODE $ROOT/bench/peers/echo_node.js" ;;
    asyncio) command -v "$PYTHON" >/dev/null 2>&1 && echo "$PYTHON $ROOT/bench/peers/echo_asyncio.py" ;;
    uvloop) "$PYTHON" -c 'import uvloop' >/dev/null 2>&1 && echo "$PYTHON $ROOT/bench/peers/echo_asyncio.py --uvloop" ;;
  esac
  return 0
}

# uring_ok — true if this kernel lets a process make an io_uring ring (lanes falls back to
# epoll otherwise, which would make the io_uring row a second epoll row).
uring_ok() {
  [[ $(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0) == 0 ]] &&
    [[ -e /usr/include/liburing.h ]]
}

# wait_listening PORT — true once something accepts on 127.0.0.1:PORT (10 s at most).
wait_listening() {
  local i
  for ((i = 0; i < 200; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# run_one NAME REP — one measured run; prints the load generator's key=value line.
run_one() {
  local name=$1 rep=$2 cmd port pid line
  cmd=$(server_cmd "$name")
  port=$((PORT + RANDOM % 2000))
  # shellcheck disable=SC2086
  "${PIN_SERVER[@]}" $cmd "$port" >"$OUT/$name.$rep.server.log" 2>&1 &
  pid=$!
  if ! wait_listening "$port"; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "error=did-not-listen"
    return 0
  fi
  line=$("${PIN_LOAD[@]}" "$LOAD" --port "$port" --connections "$CONNS" --size "$SIZE" \
    --warmup "$WARMUP" --seconds "$SECONDS_RUN" --pid "$pid" 2>>"$OUT/$name.$rep.load.log" ||
    echo "error=load-generator-failed")
  kill -TERM "$pid" 2>/dev/null || true
  sleep 0.2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$line"
}

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

if [[ ! -x $LOAD ]]; then
  printf '## TCP echo\n\nNot run: %s is not built (configure with -DLANES_BUILD_BENCH=ON).\n\n' "$LOAD"
  exit 0
fi

SERVERS=(lanes lanes_uring asio libuv node asyncio uvloop)
declare -A RATE CPU NOTE
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
AVAILABLE=()
for name in "${SERVERS[@]}"; do
  if [[ -z $(server_cmd "$name") ]]; then
    NOTE[$name]="not available"
    log "$name: not available"
  else
    AVAILABLE+=("$name")
    RATE[$name]=0
  fi
done
# Rounds interleave the servers (lanes, asio, libuv, ..., then again), so that a burst
# of load from elsewhere on the machine hits every server alike; each keeps its best.
for ((rep = 1; rep <= REPS; rep++)); do
  for name in "${AVAILABLE[@]}"; do
    line=$(run_one "$name" "$rep")
    echo "$name rep=$rep $line" >>"$OUT/raw.txt"
    log "$name #$rep: $line"
    rate=$(field msgs_per_s "$line")
    if [[ -z $rate ]]; then
      [[ ${RATE[$name]} == 0 ]] && NOTE[$name]="failed: $(field error "$line")"
      continue
    fi
    if ((rate > RATE[$name])); then
      RATE[$name]=$rate
      CPU[$name]=$(field cpu_us_per_msg "$line")
      unset 'NOTE[$name]'
    fi
  done
done
for name in "${AVAILABLE[@]}"; do
  ((RATE[$name] > 0)) || unset 'RATE[$name]'
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

label() {
  case $1 in
    lanes) echo "lanes, epoll (StreamReader::readinto + write + drain)" ;;
    lanes_uring) echo "lanes, io_uring (the same server, LANES_BACKEND=io_uring)" ;;
    asio) echo "Boost.Asio, C++20 coroutines" ;;
    libuv) echo "libuv" ;;
    node) echo "Node.js $("$NODE" --version 2>/dev/null)" ;;
    asyncio) echo "Python asyncio ($("$PYTHON" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null))" ;;
    uvloop) echo "Python asyncio + uvloop" ;;
  esac
}

echo "## TCP echo"
echo
echo "One server loop thread, $CONNS connections, $SIZE-byte ping-pong (send, wait for the echo,"
echo "send again), ${SECONDS_RUN} s measured after ${WARMUP} s of warm-up, best of $REPS interleaved"
echo "rounds; the same load generator (bench/echo_load.cpp, one thread, epoll) for every server."
if ((${#PIN_SERVER[@]})); then
  echo "The server is pinned to CPU 1, the load generator to CPU 0."
fi
echo "CPU µs/message is the server's own CPU time (user + system) over the measured window"
echo "divided by the messages: with the generator filling its core, that is the fairer"
echo "comparison. Load average before/after: $LOAD_START / $LOAD_END."
echo
echo "| server | messages/s | server CPU µs/message | lanes' messages/s ratio | lanes' CPU advantage |"
echo "|---|---:|---:|---:|---:|"
for name in "${SERVERS[@]}"; do
  if [[ -n ${RATE[$name]:-} ]]; then
    ratio="" adv=""
    if [[ -n ${RATE[lanes]:-} && $name != lanes && $name != lanes_uring ]]; then
      ratio=$(awk -v a="${RATE[lanes]}" -v b="${RATE[$name]}" 'BEGIN { printf "%.2fx", a / b }')
      if [[ -n ${CPU[lanes]:-} && -n ${CPU[$name]:-} ]]; then
        adv=$(awk -v a="${CPU[lanes]}" -v b="${CPU[$name]}" 'BEGIN { if (a > 0) printf "%.2fx", b / a }')
      fi
    fi
    printf '| %s | %s | %s | %s | %s |\n' "$(label "$name")" "${RATE[$name]}" "${CPU[$name]:-?}" "$ratio" "$adv"
  else
    printf '| %s | %s | | | |\n' "$(label "$name")" "${NOTE[$name]:-failed}"
  fi
done
echo
# The goal of issue 3: lanes at least 1.1x the best of Asio and libuv.
best_peer="" best_rate=0 best_cpu_peer="" best_cpu=""
for name in asio libuv; do
  if [[ -n ${RATE[$name]:-} ]] && ((RATE[$name] > best_rate)); then best_rate=${RATE[$name]}; best_peer=$name; fi
  if [[ -n ${CPU[$name]:-} ]] && { [[ -z $best_cpu ]] || awk -v a="${CPU[$name]}" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; }; then
    best_cpu=${CPU[$name]}; best_cpu_peer=$name
  fi
done
if [[ -n ${RATE[lanes]:-} && -n $best_peer ]]; then
  echo "Against the best of Asio and libuv (goal: 1.1x): messages/s $(awk -v a="${RATE[lanes]}" -v b="$best_rate" 'BEGIN { printf "%.2fx", a / b }') (vs $best_peer);" \
    "CPU per message $(awk -v a="${CPU[lanes]:-0}" -v b="$best_cpu" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "?" }') less than $best_cpu_peer."
  echo
fi
# The goal of issue 13: lanes on io_uring uses >= 1.3x less server CPU per message than Asio.
if [[ -n ${CPU[lanes_uring]:-} && -n ${CPU[asio]:-} ]]; then
  adv=$(awk -v a="${CPU[lanes_uring]}" -v b="${CPU[asio]}" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print 0 }')
  met=$(awk -v x="$adv" 'BEGIN { print (x >= 1.3) ? "met" : "missed" }')
  echo "lanes on io_uring against Asio (goal: CPU per message >= 1.3x lower): ${adv}x — **$met**." \
    "Against lanes on epoll: $(awk -v a="${CPU[lanes_uring]}" -v b="${CPU[lanes]:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", b / a; else print "?" }') lower CPU per message," \
    "$(awk -v a="${RATE[lanes_uring]:-0}" -v b="${RATE[lanes]:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "?" }') the messages/s."
  echo
fi
echo "Raw runs: \`$OUT/raw.txt\`."
echo
