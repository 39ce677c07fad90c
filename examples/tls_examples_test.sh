#!/usr/bin/env bash
# ctest examples_tls_pair: tls_echo_server and https_client against each other on
# loopback, with certificates made here by the openssl CLI; then each demo mode.
# Usage: tls_examples_test.sh TLS_ECHO_SERVER HTTPS_CLIENT
set -euo pipefail
server_bin=$1
client_bin=$2
dir=$(mktemp -d /tmp/lanes_tls_examples_XXXXXX)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

make_cert() {  # make_cert NAME [extra openssl args...]
  local name=$1
  shift
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    "$@" -keyout "$dir/$name.key" -out "$dir/$name.pem" 2>/dev/null
}
make_cert server -addext subjectAltName=DNS:localhost,IP:127.0.0.1
make_cert other  # a certificate to trust by mistake

# The server serves one client, then exits; it prints its port first.
"$server_bin" "$dir/server.pem" "$dir/server.key" 0 1 >"$dir/server.out" 2>"$dir/server.err" &
server_pid=$!
for _ in $(seq 1 200); do
  grep -q '^listening on' "$dir/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$dir/server.err"; exit 1; }
  sleep 0.05
done
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$dir/server.out")
[[ -n $port ]] || { echo "no port from the server"; cat "$dir/server.err"; exit 1; }

# Trusting the wrong certificate: the client refuses the server's (the server's
# handler never runs, so it does not count as served).
if "$client_bin" "https://localhost:$port/" "$dir/other.pem" 2>"$dir/client.err"; then
  echo "trusting another certificate should have failed"
  exit 1
fi
grep -q 'certificate verify failed' "$dir/client.err" || { cat "$dir/client.err"; exit 1; }

out=$("$client_bin" "https://localhost:$port/echo/me" "$dir/server.pem")
echo "$out"
grep -q '^HTTP/1.1 200 OK' <<<"$out"
grep -q '^GET /echo/me HTTP/1.1' <<<"$out"
grep -q '^\* TLSv1.3' <<<"$out"

wait "$server_pid"  # it exits by itself after its one client
server_pid=
"$server_bin" >/dev/null
"$client_bin" >/dev/null
echo "examples_tls_pair: OK"
