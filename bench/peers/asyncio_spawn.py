#!/usr/bin/env python3
"""bench_core's workloads written with Python asyncio.

Prints one JSON line per workload, as peers/asio_spawn.cpp does:
  {"peer": "asyncio", "workload": ..., "ns_per_item": ..., "wall_s": ..., "cpu_s": ...,
   "bytes_per_task": ...}
ns_per_item is CPU time of the loop's thread per item (time.thread_time), as in
bench_core. Each workload runs --reps times (default 3) in this process and the best
run is printed. The sleep's bytes per task come from one extra run with tracemalloc on
(peak traced bytes / tasks); tracemalloc slows Python down, so that run is not timed.

  python3 asyncio_spawn.py [--reps N] [--only WORKLOAD] [--spawn N]

A 1,000,000-deep await chain cannot be written in Python (each level of `await`
is a level of C recursion, bounded by the recursion limit): that workload is
reported with "skipped" and the reason.
"""
import argparse
import asyncio
import gc
import json
import sys
import time
import tracemalloc


async def trivial_void():
    return None


async def trivial_int(i):
    return i


async def spawn_gather_void(n):
    results = await asyncio.gather(*[asyncio.create_task(trivial_void()) for _ in range(n)])
    return len(results)


async def spawn_gather_int(n):
    results = await asyncio.gather(*[asyncio.create_task(trivial_int(i)) for i in range(n)])
    return sum(results)


async def chain(depth):
    if depth == 0:
        return 0
    return 1 + await chain(depth - 1)


async def chains(depth, repeats):
    total = 0
    for _ in range(repeats):
        total += await chain(depth)
    return total


async def sequential_awaits(n):
    total = 0
    for i in range(n):
        total += await trivial_int(i)
    return total


async def sleeper(d):
    await asyncio.sleep(d)


async def spawn_sleepers(n, d):
    await asyncio.gather(*[asyncio.create_task(sleeper(d)) for _ in range(n)])
    return n


def run_once(make, expect):
    # A collection pass left over from the previous run must not land in this one.
    gc.collect()
    t0, c0 = time.perf_counter(), time.thread_time()
    got = asyncio.run(make())
    c1, t1 = time.thread_time(), time.perf_counter()
    if expect is not None and got != expect:
        sys.exit(f"asyncio_spawn: wrong result {got} (expected {expect})")
    return t1 - t0, c1 - c0


def best_of(times):
    """The least wall time and the least CPU time of several (wall, cpu) runs."""
    return min(t[0] for t in times), min(t[1] for t in times)


def run_in_one_loop(make, expect, reps):
    """The spawn workloads again, `reps` times inside one asyncio.run after one untimed
    burst (bench_core's BM_spawn_gather_warm); returns the best burst's (wall, cpu)."""
    async def repeated():
        best = []
        for r in range(-1, reps):
            t0, c0 = time.perf_counter(), time.thread_time()
            got = await make()
            c1, t1 = time.thread_time(), time.perf_counter()
            if got != expect:
                sys.exit(f"asyncio_spawn: wrong result {got} (expected {expect})")
            if r >= 0:
                best.append((t1 - t0, c1 - c0))
        return best_of(best)

    gc.collect()
    return asyncio.run(repeated())


def emit(record):
    print(json.dumps(record), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default="")
    parser.add_argument("--spawn", type=int, default=1_000_000,
                        help="tasks in the spawn_gather workloads")
    args = parser.parse_args()
    # chain(1000) nests 1000 coroutines, each a few levels of interpreter recursion.
    sys.setrecursionlimit(20_000)

    n = args.spawn
    sleepers = 100_000
    workloads = [
        ("spawn_gather_void", n, n, lambda: spawn_gather_void(n), False),
        ("spawn_gather_int", n, n * (n - 1) // 2, lambda: spawn_gather_int(n), False),
        ("spawn_gather_void_warm", n, n, lambda: spawn_gather_void(n), False),
        ("spawn_gather_int_warm", n, n * (n - 1) // 2, lambda: spawn_gather_int(n), False),
        ("await_chain_1000x1000", 1_000_000, 1_000_000, lambda: chains(1000, 1000), False),
        ("await_seq_1000000", 1_000_000, 1_000_000 * 999_999 // 2,
         lambda: sequential_awaits(1_000_000), False),
        ("sleep_100000", sleepers, sleepers, lambda: spawn_sleepers(sleepers, 0.1), True),
    ]
    for name, items, expect, make, count_bytes in workloads:
        if args.only and name != args.only:
            continue
        if name.endswith("_warm"):
            wall, cpu = run_in_one_loop(make, expect, max(1, args.reps))
        else:
            wall, cpu = best_of([run_once(make, expect) for _ in range(max(1, args.reps))])
        record = {"peer": "asyncio", "workload": name, "ns_per_item": cpu * 1e9 / items,
                  "wall_s": wall, "cpu_s": cpu}
        if count_bytes:
            gc.collect()
            tracemalloc.start()
            run_once(make, expect)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            record["bytes_per_task"] = peak / items
        emit(record)
    if not args.only or args.only == "await_chain_1000000x1":
        emit({"peer": "asyncio", "workload": "await_chain_1000000x1",
              "skipped": "a 1,000,000-deep await chain exceeds Python's C recursion"})


if __name__ == "__main__":
    main()
