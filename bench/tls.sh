#!/usr/bin/env bash
# bench/tls.sh BUILD_DIR [OUT_DIR] — the TLS benchmark: the TCP echo of bench/echo.sh
# over TLS (one server loop thread, 100 connections, 64-byte ping-pong, a fixed time),
# then full handshakes one after another (connect, handshake without resumption, one
# echo, close). The same load generator (BUILD_DIR/bench/tls_load, plain OpenSSL)
# drives every server; the server's own CPU time over the measured window comes from
# /proc/PID/stat. Writes OUT_DIR/raw.txt and OUT_DIR/meta.txt; bench/report.py (group
# tls) renders them.
#
# Servers: lanes (tls_echo_lanes), Boost.Asio's ssl::stream (peer_echo_asio_ssl),
# Python asyncio with ssl (bench/peers/echo_asyncio_ssl.py), and OpenSSL alone on
# an epoll loop (peer_tls_openssl) — the reference for handshakes per core.
#
# Environment: BENCH_REPS (3; rounds interleave the servers, each keeps its best),
# TLS_SECONDS (5), TLS_WARMUP (1), TLS_CONNECTIONS (100), TLS_SIZE (64), TLS_PORT
# (first port tried, 19600), PYTHON (/usr/bin/python3 when present).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:?usage: bench/tls.sh BUILD_DIR [OUT_DIR]}" && pwd)
OUT=${2:-$BUILD/bench-results/tls}
REPS=${BENCH_REPS:-3}
SECONDS_RUN=${TLS_SECONDS:-5}
WARMUP=${TLS_WARMUP:-1}
CONNS=${TLS_CONNECTIONS:-100}
SIZE=${TLS_SIZE:-64}
PORT=${TLS_PORT:-19600}
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
LOAD=$BUILD/bench/tls_load
mkdir -p "$OUT"
: >"$OUT/raw.txt"

log() { echo "==> tls: $*" >&2; }

PIN_SERVER=() PIN_LOAD=()
if taskset -c 1 true 2>/dev/null && taskset -c 0 true 2>/dev/null; then
  PIN_SERVER=(taskset -c 1) PIN_LOAD=(taskset -c 0)
fi

{
  echo "reps=$REPS"
  echo "seconds=$SECONDS_RUN"
  echo "warmup=$WARMUP"
  echo "connections=$CONNS"
  echo "size=$SIZE"
  echo "pinned=$([[ ${#PIN_SERVER[@]} -gt 0 ]] && echo yes || echo no)"
  echo "openssl=$(openssl version 2>/dev/null | head -n1 || echo '?')"
  echo "python=$("$PYTHON" -c 'import sys, ssl; print(sys.version.split()[0], ssl.OPENSSL_VERSION)' 2>/dev/null || echo 'not found')"
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/meta.txt"

if [[ ! -x $LOAD ]]; then
  echo "error=tls_load not built (configure with -DLANES_BUILD_BENCH=ON and OpenSSL)" >>"$OUT/meta.txt"
  exit 0
fi

# One certificate for every server (ECDSA P-256, as most sites now use).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>/dev/null

server_cmd() {
  case $1 in
    lanes) [[ -x $BUILD/bench/tls_echo_lanes ]] && echo "$BUILD/bench/tls_echo_lanes" ;;
    asio) [[ -x $BUILD/bench/peer_echo_asio_ssl ]] && echo "$BUILD/bench/peer_echo_asio_ssl" ;;
    openssl) [[ -x $BUILD/bench/peer_tls_openssl ]] && echo "$BUILD/bench/peer_tls_openssl" ;;
    asyncio) command -v "$PYTHON" >/dev/null 2>&1 && echo "$PYTHON $ROOT/bench/peers/echo_asyncio_ssl.py" ;;
  esac
  return 0
}

wait_listening() {
  local i
  for ((i = 0; i < 200; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# run_one NAME MODE REP — one measured run against a fresh server.
run_one() {
  local name=$1 mode=$2 rep=$3 cmd port pid line
  cmd=$(server_cmd "$name")
  port=$((PORT + RANDOM % 2000))
  # shellcheck disable=SC2086
  "${PIN_SERVER[@]}" $cmd "$port" "$OUT/cert.pem" "$OUT/key.pem" >"$OUT/$name.$mode.$rep.server.log" 2>&1 &
  pid=$!
  if ! wait_listening "$port"; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "error=did-not-listen"
    return 0
  fi
  line=$("${PIN_LOAD[@]}" "$LOAD" --port "$port" "$mode" --connections "$CONNS" --size "$SIZE" \
    --warmup "$WARMUP" --seconds "$SECONDS_RUN" --pid "$pid" 2>>"$OUT/$name.$mode.$rep.load.log" ||
    echo "error=load-generator-failed")
  kill -TERM "$pid" 2>/dev/null || true
  sleep 0.2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$line"
}

SERVERS=(lanes asio openssl asyncio)
for name in "${SERVERS[@]}"; do
  if [[ -z $(server_cmd "$name") ]]; then
    echo "server=$name mode=- error=not-available" >>"$OUT/raw.txt"
    log "$name: not available"
  fi
done
for ((rep = 1; rep <= REPS; rep++)); do
  for mode in echo handshakes; do
    for name in "${SERVERS[@]}"; do
      [[ -n $(server_cmd "$name") ]] || continue
      line=$(run_one "$name" "$mode" "$rep")
      echo "server=$name mode=$mode rep=$rep $line" >>"$OUT/raw.txt"
      log "$name $mode #$rep: $line"
    done
  done
done
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
