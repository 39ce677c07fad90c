#!/usr/bin/env bash
# The steps behind the Makefile's targets (run from the repository root).
#
#   lanes-build.sh build DIR [cmake args...]         configure DIR (Ninja) and build it
#   lanes-build.sh test NAME DIR [cmake args...]     build, then run the whole ctest suite;
#                                                    writes DIR/lanes-test-summary.txt
#   lanes-build.sh main DIR                          the main job: `lanes lab`, then where
#                                                    the binary is, how to install, make test
#
# Environment: JOBS (default 2), CTEST_TIMEOUT (default 300 s per test without its own
# TIMEOUT).
set -euo pipefail

JOBS=${JOBS:-2}
CTEST_TIMEOUT=${CTEST_TIMEOUT:-300}
export CMAKE_BUILD_PARALLEL_LEVEL=$JOBS

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# ccache rewrites paths below the checkout as relative ones, so another clone of the
# repository (CI's fresh one) reuses what this machine compiled before.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"

configure_and_build() {
  local dir=$1
  shift
  local launcher=()
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  echo "==> configure $dir: $*"
  cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "$@"
  echo "==> build $dir"
  cmake --build "$dir" -j"$JOBS"
}

# ThreadSanitizer of clang <= 17 cannot map its shadow memory when the kernel randomises
# mmap with more than 28 bits (vm.mmap_rnd_bits); run such a suite with ASLR off.
ctest_wrapper() {
  local dir=$1 bits
  grep -q '^LANES_SANITIZE:STRING=thread$' "$dir/CMakeCache.txt" 2>/dev/null || return 0
  bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)
  if ((bits > 28)) && setarch "$(uname -m)" -R true 2>/dev/null; then
    echo "setarch $(uname -m) -R"
  fi
}

cmd_build() {
  local dir=$1
  shift
  configure_and_build "$dir" "$@"
}

cmd_test() {
  local name=$1 dir=$2
  shift 2
  local summary="$dir/lanes-test-summary.txt"
  rm -f "$summary"
  local t0 t1 t2
  t0=$(date +%s)
  if ! configure_and_build "$dir" "$@"; then
    echo "==> $name: FAILED to configure/build ($dir)" >&2
    exit 1
  fi
  t1=$(date +%s)
  local wrap
  wrap=$(ctest_wrapper "$dir")
  echo "==> ctest $dir${wrap:+ (under: $wrap)}"
  local log="$dir/lanes-ctest.log" rc=0
  # shellcheck disable=SC2086
  $wrap ctest --test-dir "$dir" --output-on-failure -j"$JOBS" --timeout "$CTEST_TIMEOUT" \
    --no-tests=error 2>&1 | tee "$log" || rc=$?
  t2=$(date +%s)
  local result
  result=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n1 || true)
  if ((rc != 0)); then
    echo "==> $name: FAILED in ctest after $((t2 - t1))s: ${result:-no result line}" >&2
    exit 1
  fi
  printf '%-8s PASS  build %4ss  ctest %4ss  %s\n' "$name:" "$((t1 - t0))" "$((t2 - t1))" \
    "$result" | tee "$summary"
}

cmd_main() {
  local dir=$1
  local cli="$dir/tools/lanes/lanes"
  if [[ ! -x "$cli" ]]; then
    echo "==> $cli was not built (configure with -DLANES_BUILD_TOOLS=ON)" >&2
    exit 1
  fi
  echo "==> $cli lab"
  "$cli" lab
  echo
  echo "lanes CLI:   $cli   (lanes lab, lanes advise -- PROGRAM; --help)"
  echo "install:     cmake --install $dir --prefix ~/.local   (library, headers, CMake package, lanes.pc, the CLI)"
  echo "tests:       make test"
}

case "${1:-}" in
  build) shift; cmd_build "$@" ;;
  test) shift; cmd_test "$@" ;;
  main) shift; cmd_main "$@" ;;
  *) echo "usage: $0 build DIR [cmake args] | test NAME DIR [cmake args] | main DIR" >&2; exit 2 ;;
esac
