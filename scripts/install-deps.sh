#!/usr/bin/env bash
# Installs, from Debian's packages, what one target of the Makefile needs.
#
#   install-deps.sh build   make:        compiler, CMake, Ninja, and the CLI's libraries
#   install-deps.sh test    make test:   build's, plus the test frameworks and the peers
#                                        the tests run (clang, Chromium, ab/wrk, MPI...)
#   install-deps.sh bench   make bench:  build's, plus the benchmark frameworks and peers
#
# Several targets may be given (`install-deps.sh test bench`); none means build.
# Idempotent: a package already installed is skipped; `apt-get update` runs only when
# something is missing. apt's output goes to a log, shown only if apt fails.
#
# To add a package: append it to the list of the target that needs it (one list per
# target below, with a comment saying what needs it).
set -euo pipefail

# make: build/release and the `lanes` CLI it runs.
BUILD_PKGS=(
  cmake ninja-build g++ ccache
  # tools/lanes: command line, formatting, --json output
  libcli11-dev libfmt-dev nlohmann-json3-dev
  # the library's TLS (lanes/ssl.hpp) and io_uring backend, so the library `make` builds
  # (and `cmake --install` installs) is the whole library
  libssl-dev liburing-dev
  # `lanes lab` runs the same experiments in Python beside lanes
  python3
)

# make test: the four builds (g++, clang-16, ASan+UBSan, TSan) and what the tests drive.
TEST_PKGS=(
  clang-16 libclang-rt-16-dev
  libgtest-dev libgmock-dev
  # tests/test_lanes_cli.cpp renders `lanes lab --report` in headless Chromium and decodes
  # the PNG with zlib; DejaVu gives the page's text a font.
  chromium fonts-dejavu-core zlib1g-dev
  # the package_consumer test builds a program with `pkg-config --cflags --libs lanes`
  pkg-config
  # examples_http_server_ab / _wrk: real HTTP clients against examples/http_server
  apache2-utils wrk
  # TLS (lanes/ssl.hpp): OpenSSL 3's headers and the CLI the TLS tests talk to
  libssl-dev openssl
  # lanes::mpi (MPIPoolExecutor), its tests under mpirun, and mpi4py
  libopenmpi-dev openmpi-bin python3-mpi4py
  # the io_uring reactor
  liburing-dev
)

# make bench: bench/ and the peers it compares lanes with.
BENCH_PKGS=(
  libbenchmark-dev libcereal-dev
  libboost-dev libtbb-dev libuv1-dev liburing-dev
  libssl-dev openssl
  libopenmpi-dev openmpi-bin python3-mpi4py
  python3-uvloop python3-aiofiles nodejs golang-go fio
)

# Installed when the archive has them; skipped without error otherwise.
OPTIONAL_TEST_PKGS=(lld-16)

usage() {
  echo "usage: $0 [build|test|bench]..." >&2
  exit 2
}

targets=("$@")
((${#targets[@]})) || targets=(build)
required=("${BUILD_PKGS[@]}")
optional=()
for t in "${targets[@]}"; do
  case "$t" in
    build) ;;
    test) required+=("${TEST_PKGS[@]}"); optional+=("${OPTIONAL_TEST_PKGS[@]}") ;;
    bench) required+=("${BENCH_PKGS[@]}") ;;
    *) usage ;;
  esac
done
# Each package once, in order.
mapfile -t required < <(printf '%s\n' "${required[@]}" | awk '!seen[$0]++')

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}
available() {
  # A real candidate version, not "(none)" and not a purely virtual package.
  local cand
  cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
  [[ -n "$cand" && "$cand" != "(none)" ]]
}

missing=()
for p in "${required[@]}"; do
  installed "$p" || missing+=("$p")
done
want_optional=()
for p in "${optional[@]}"; do
  installed "$p" || want_optional+=("$p")
done

if ((${#missing[@]} == 0 && ${#want_optional[@]} == 0)); then
  echo "install-deps (${targets[*]}): all ${#required[@]} packages present"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  elif ((${#missing[@]} == 0)); then
    exit 0  # only optional packages are missing: go without them
  else
    echo "install-deps: not root and no sudo; cannot install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive

log=$(mktemp -t lanes-install-deps.XXXXXX.log)
apt_quiet() {
  # apt and dpkg talk a lot even with -qq: keep it in the log, show it if apt fails.
  if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "$@" >>"$log" 2>&1; then
    echo "install-deps: '$*' failed; its output:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

if ((${#missing[@]})); then
  echo "install-deps (${targets[*]}): apt-get update (missing: ${missing[*]})"
  apt_quiet apt-get update -qq
fi
# An optional package is only looked up in the current lists: no update just for it.
for p in "${want_optional[@]}"; do
  available "$p" && missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps (${targets[*]}): all ${#required[@]} packages present"
  rm -f "$log"
  exit 0
fi

echo "install-deps (${targets[*]}): installing ${#missing[@]} package(s): ${missing[*]}"
apt_quiet apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"
rm -f "$log"
echo "install-deps: done"
