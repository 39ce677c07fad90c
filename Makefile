# lanes — the entry points. Every target first installs, from Debian's packages, what it
# needs (scripts/install-deps.sh build | test | bench).
#
#   make              build build/release (g++; the library, the `lanes` CLI and the
#                     examples, no test or fuzz target) and run the main job: `lanes lab`
#   make test         the whole ctest suite in four builds, stopping at the first failure:
#                     release (g++), clang (clang++-16), asan (ASan+UBSan), tsan
#   make test-release | test-clang | test-asan | test-tsan    one of those builds
#   make bench        build build/bench and run bench/run.sh (writes docs/benchmarks.md)
#   make clean        remove build/
#
# JOBS=N sets the build and ctest parallelism (default 2, the machine's cores).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all
.NOTPARALLEL:

JOBS ?= 2
GXX ?= g++
CLANGXX ?= clang++-16
export JOBS

BUILD := bash scripts/lanes-build.sh

RELEASE_ARGS := -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=$(GXX)
# `make` and `make test-release` share build/release: each states the test options.
MAIN_ARGS    := $(RELEASE_ARGS) -DLANES_BUILD_TESTS=OFF -DLANES_BUILD_FUZZ=OFF
TEST_ARGS    := -DLANES_BUILD_TESTS=ON -DLANES_BUILD_FUZZ=ON
CLANG_ARGS   := -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=$(CLANGXX)
# Sanitized builds keep assert() on: RelWithDebInfo's flags without -DNDEBUG.
SAN_FLAGS    := -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g"
ASAN_ARGS    := $(SAN_FLAGS) -DCMAKE_CXX_COMPILER=$(CLANGXX) \
                -DLANES_SANITIZE=address -DLANES_BUILD_EXAMPLES=OFF -DLANES_BUILD_BENCH=OFF
TSAN_ARGS    := $(SAN_FLAGS) -DCMAKE_CXX_COMPILER=$(CLANGXX) \
                -DLANES_SANITIZE=thread -DLANES_BUILD_EXAMPLES=OFF -DLANES_BUILD_BENCH=OFF
BENCH_ARGS   := -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=$(GXX) \
                -DLANES_BUILD_BENCH=ON -DLANES_BUILD_TESTS=OFF -DLANES_BUILD_EXAMPLES=OFF

.PHONY: all run deps deps-test deps-bench test test-release test-clang test-asan test-tsan \
        bench clean

all: run

deps:
	@bash scripts/install-deps.sh build

deps-test:
	@bash scripts/install-deps.sh test

deps-bench:
	@bash scripts/install-deps.sh bench

run: deps
	$(BUILD) build build/release $(MAIN_ARGS)
	$(BUILD) main build/release

test: test-release test-clang test-asan test-tsan
	@echo
	@echo "==================== make test: summary ===================="
	@cat build/release/lanes-test-summary.txt build/clang/lanes-test-summary.txt \
	     build/asan/lanes-test-summary.txt build/tsan/lanes-test-summary.txt
	@echo "all 4 builds passed"

test-release: deps-test
	$(BUILD) test release build/release $(RELEASE_ARGS) $(TEST_ARGS)

test-clang: deps-test
	$(BUILD) test clang build/clang $(CLANG_ARGS) $(TEST_ARGS)

test-asan: deps-test
	$(BUILD) test asan build/asan $(ASAN_ARGS) $(TEST_ARGS)

test-tsan: deps-test
	$(BUILD) test tsan build/tsan $(TSAN_ARGS) $(TEST_ARGS)

bench: deps-bench
	$(BUILD) build build/bench $(BENCH_ARGS)
	bash bench/run.sh build/bench

clean:
	rm -rf build
