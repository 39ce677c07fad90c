#!/usr/bin/env bash
# Installs, from Debian's packages, everything lanes needs to build, test and benchmark.
# Idempotent: a package already installed is skipped; `apt-get update` runs only when
# something is missing. Safe to run before every build (it is what `make` does).
set -euo pipefail

# Toolchain, test and benchmark frameworks, and the peer libraries/runtimes of bench/.
REQUIRED=(
  cmake ninja-build g++ ccache
  clang-16 libclang-rt-16-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libuv1-dev libtbb-dev liburing-dev libfmt-dev libcli11-dev
  libcereal-dev
  # bench/files.sh: the file benchmark's peers (aiofiles for /usr/bin/python3, fio).
  python3-aiofiles fio
  python3 python3-uvloop nodejs golang-go
  # tests/test_lanes_cli.cpp renders `lanes lab --report` in headless Chromium and decodes
  # the PNG with zlib; DejaVu gives the page's text a font.
  chromium fonts-dejavu-core zlib1g-dev
)
# Installed when the archive has them; skipped without error otherwise.
OPTIONAL=(lld-16)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}
available() {
  # A real candidate version, not "(none)" and not a purely virtual package.
  local cand
  cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
  [[ -n "$cand" && "$cand" != "(none)" ]]
}

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: not root and no sudo; cannot install packages" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive

missing=()
for p in "${REQUIRED[@]}"; do
  installed "$p" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: apt-get update (missing: ${missing[*]})"
  "${SUDO[@]}" apt-get update -qq
fi

# An optional package is only looked up in the current lists: no update just for it.
for p in "${OPTIONAL[@]}"; do
  installed "$p" && continue
  available "$p" && missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#REQUIRED[@]} required packages present, nothing to install"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
