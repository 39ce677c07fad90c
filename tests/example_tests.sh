#!/usr/bin/env bash
# The examples that need a peer, run against each other on loopback (ctest, from
# examples/CMakeLists.txt). The examples that run alone are ctest tests of their own.
#
#   example_tests.sh CASE EXAMPLES_DIR
#     tcp_echo     tcp_echo_server PORT + tcp_echo_client 127.0.0.1 PORT MESSAGE
#     http         http_server PORT + http_client http://127.0.0.1:PORT/...
#     http_limits  http_server's bounds and keep-alive rules, with raw requests
#     http_ab      ApacheBench (apache2-utils) against http_server, with and without -k
#     http_wrk     wrk against http_server
#
# Each server is started on port 0 (a free port, printed on its first line) and stopped
# with SIGINT, which must close it cleanly. Every wait is bounded: `read -t`, `timeout`.
set -euo pipefail

case_name=${1:?usage: $0 CASE EXAMPLES_DIR}
dir=${2:?usage: $0 CASE EXAMPLES_DIR}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

server_pid=""
port=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# start_server EXE: runs `EXE 0`, reads the port from its first line (fd 3 stays open on
# the server's output).
start_server() {
  local exe=$1 line
  [[ -x "$exe" ]] || fail "$exe is not built"
  exec 3< <(exec stdbuf -oL "$exe" 0)
  server_pid=$!
  read -t 30 -r line <&3 || fail "$(basename "$exe") printed no 'serving on' line within 30 s"
  echo "server: $line"
  [[ "$line" =~ 127\.0\.0\.1:([0-9]+) ]] || fail "no 127.0.0.1:PORT in '$line'"
  port=${BASH_REMATCH[1]}
}

# stop_server: SIGINT, then the server must exit 0 saying it was interrupted.
stop_server() {
  kill -INT "$server_pid"
  local rc=0 rest
  wait "$server_pid" || rc=$?
  rest=$(timeout 10 cat <&3 || true)
  exec 3<&-
  server_pid=""
  ((rc == 0)) || fail "the server exited $rc after SIGINT: $rest"
  [[ "$rest" == *interrupted* ]] || fail "the server did not say it was interrupted: $rest"
  echo "server stopped by SIGINT"
}

# raw_http TEXT: sends TEXT (printf format) on a new connection, prints all the server
# answers until it closes the connection (so TEXT must end with a request that closes).
raw_http() {
  timeout 10 bash -c '
    exec 4<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "$2" >&4
    cat <&4' _ "$port" "$1" || fail "no answer (or not closed) for: $1"
}

expect_in() {
  local what=$1 text=$2 needle=$3
  [[ "$text" == *"$needle"* ]] || fail "$what: expected '$needle' in:
$text"
  echo "ok: $what"
}

case "$case_name" in
  tcp_echo)
    start_server "$dir/tcp_echo_server"
    out=$(timeout 30 "$dir/tcp_echo_client" 127.0.0.1 "$port" "lanes example test")
    echo "$out"
    expect_in "the client got its message back" "$out" "received: lanes example test"
    stop_server
    ;;

  http)
    start_server "$dir/http_server"
    out=$(timeout 30 "$dir/http_client" "http://127.0.0.1:$port/")
    expect_in "GET /" "$out" "Hello from lanes"
    out=$(timeout 30 "$dir/http_client" "http://127.0.0.1:$port/bytes/5")
    expect_in "GET /bytes/5" "$out" $'\r\n\r\nxxxxx'
    out=$(timeout 30 "$dir/http_client" "http://127.0.0.1:$port/delay/20")
    expect_in "GET /delay/20" "$out" "waited 20 ms"
    out=$(timeout 30 "$dir/http_client" "http://127.0.0.1:$port/nowhere")
    expect_in "GET /nowhere" "$out" "404 Not Found"
    stop_server
    ;;

  http_limits)
    start_server "$dir/http_server"
    C='Connection: close\r\n\r\n'
    out=$(raw_http "GET /bytes/1048576 HTTP/1.1\r\nHost: t\r\n$C")
    expect_in "/bytes/N at the cap" "$out" "Content-Length: 1048576"
    out=$(raw_http "GET /bytes/1048577 HTTP/1.1\r\nHost: t\r\n$C")
    expect_in "/bytes/N over the cap" "$out" "400 Bad Request"
    out=$(raw_http "GET /bytes/99999999999999999999999 HTTP/1.1\r\nHost: t\r\n$C")
    expect_in "/bytes/N overflowing" "$out" "400 Bad Request"
    out=$(raw_http "GET /bytes/-1 HTTP/1.1\r\nHost: t\r\n$C")
    expect_in "/bytes/-1" "$out" "400 Bad Request"
    out=$(raw_http "GET /delay/86400000 HTTP/1.1\r\nHost: t\r\n$C")
    expect_in "/delay/MS over the cap" "$out" "400 Bad Request"
    # A body larger than the cap is refused before it is read, and the connection closed.
    out=$(raw_http "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n")
    expect_in "Content-Length over the cap" "$out" "413 Content Too Large"
    expect_in "Content-Length over the cap closes" "$out" "Connection: close"
    out=$(raw_http "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n")
    expect_in "a negative Content-Length" "$out" "413 Content Too Large"
    out=$(raw_http "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbodyGET / HTTP/1.1\r\n$C")
    expect_in "a body within the cap is read, then the next request" "$out" "Hello from lanes"
    # HTTP/1.0: closed unless asked; kept, and said so, when asked.
    out=$(raw_http "GET / HTTP/1.0\r\n\r\n")
    expect_in "HTTP/1.0 without keep-alive closes" "$out" "Connection: close"
    out=$(raw_http "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /bytes/3 HTTP/1.0\r\n\r\n")
    expect_in "HTTP/1.0 keep-alive is answered" "$out" "Connection: keep-alive"
    expect_in "HTTP/1.0 keep-alive keeps the connection for the next request" "$out" "xxx"
    out=$(raw_http "GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /bytes/2 HTTP/1.1\r\nHost: t\r\n$C")
    expect_in "HTTP/1.1 keeps the connection" "$out" $'\r\n\r\nxx'
    out=$(raw_http "BREW / HTCPCP/1.0\r\n\r\n")
    expect_in "a malformed request line" "$out" "400 Bad Request"
    stop_server
    ;;

  http_ab)
    command -v ab >/dev/null || fail "ab not found: install apache2-utils (scripts/install-deps.sh test)"
    start_server "$dir/http_server"
    # -k: HTTP/1.0 with `Connection: Keep-Alive`; ab hangs if the answer does not say so.
    out=$(timeout 60 ab -k -q -n 2000 -c 8 -s 20 "http://127.0.0.1:$port/" 2>&1) ||
      fail "ab -k failed or hung: $out"
    echo "$out" | grep -E 'Complete requests|Failed requests|Keep-Alive requests|Requests per second'
    expect_in "ab -k completes" "$out" "Complete requests:      2000"
    expect_in "ab -k: no failure" "$out" "Failed requests:        0"
    expect_in "ab -k: every request kept the connection" "$out" "Keep-Alive requests:    2000"
    out=$(timeout 60 ab -q -n 500 -c 4 -s 20 "http://127.0.0.1:$port/bytes/1000" 2>&1) ||
      fail "ab without -k failed or hung: $out"
    expect_in "ab (a connection per request) completes" "$out" "Complete requests:      500"
    expect_in "ab (a connection per request): no failure" "$out" "Failed requests:        0"
    stop_server
    ;;

  http_wrk)
    command -v wrk >/dev/null || fail "wrk not found (scripts/install-deps.sh test)"
    start_server "$dir/http_server"
    out=$(timeout 60 wrk -t 1 -c 8 -d 2s --timeout 5s "http://127.0.0.1:$port/" 2>&1) ||
      fail "wrk failed: $out"
    echo "$out"
    [[ "$out" =~ ([0-9]+)\ requests\ in ]] || fail "no 'N requests in' line from wrk"
    ((BASH_REMATCH[1] > 0)) || fail "wrk made no request"
    [[ "$out" != *"Socket errors"* ]] || fail "wrk saw socket errors"
    [[ "$out" != *"Non-2xx"* ]] || fail "wrk saw answers other than 2xx"
    echo "ok: wrk, ${BASH_REMATCH[1]} requests, no error"
    stop_server
    ;;

  *) fail "unknown case '$case_name'" ;;
esac
echo "PASS: $case_name"
