#!/usr/bin/env python3
"""bench_thread_pool's tiny-task workload with Python's
concurrent.futures.ThreadPoolExecutor.

  tiny_tasks  submit(tiny, i) for 100,000 i (not 1,000,000: each task costs
              microseconds in CPython; the report compares time per task), then
              result() of each, summed; max_workers = one per core, as lanes

Prints one JSON line, with the keys of bench_thread_pool (see bench/pool_work.hpp):
wall_s is the best of --reps runs, cpu_s the least process CPU time
(time.process_time: every thread). busiest_s is not measured here (0).

The fork-join fib is not written in Python: a task that waits on the result of a
task it submitted blocks its worker, so fib through submit + result() deadlocks
once every worker waits (and the GIL would keep it to one core anyway).

  python3 pool_python.py [--reps N] [--tasks N]
"""
import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def tiny(i):
    return i + 1


def loadavg():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--fib-reps", type=int, default=0)  # accepted for symmetry, unused
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    if args.only not in ("", "tiny"):
        return 0
    n = args.tasks
    workers = os.cpu_count() or 1
    expected = n * (n + 1) // 2
    best_wall, best_cpu = float("inf"), float("inf")
    with ThreadPoolExecutor(max_workers=workers) as ex:

        def run():
            futures = [ex.submit(tiny, i) for i in range(n)]
            total = sum(f.result() for f in futures)
            assert total == expected, (total, expected)

        run()  # starts the workers, as the C++ sides' untimed first run
        for _ in range(max(1, args.reps)):
            t0, c0 = time.perf_counter(), time.process_time()
            run()
            best_wall = min(best_wall, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
    print(json.dumps({
        "peer": "python", "workload": "tiny_tasks", "workers": workers,
        "version": sys.version.split()[0], "tasks": n, "reps": args.reps,
        "wall_s": round(best_wall, 6), "cpu_s": round(best_cpu, 6), "busiest_s": 0,
        "threads": workers, "loadavg": loadavg()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
