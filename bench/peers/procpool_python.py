#!/usr/bin/env python3
"""Python's concurrent.futures.ProcessPoolExecutor on the workloads of
bench/bench_procpool.cpp, printing the same JSON lines:
  round_trip  executor.submit(tiny, i).result() one after the other
  map         executor.map(square, range(N), chunksize=c) for several c
  fib         fib jobs sequentially, then through the pool (one worker per core)
Wall time; each figure is the best of --reps runs. Workers are started and warm
before anything is timed, as on the lanes side.
"""
import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def tiny(x):
    return x


def square(x):
    return x * x


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def fib_timed(n):
    t0 = time.thread_time()
    r = fib(n)
    return r, os.getpid(), time.thread_time() - t0


def best_of(reps, run):
    return min(run() for _ in range(reps))


def round_trip(reps, workers):
    with ProcessPoolExecutor(max_workers=workers) as ex:
        for i in range(200):
            ex.submit(tiny, i).result()
        n = 2000

        def run():
            t0 = time.perf_counter()
            for i in range(n):
                ex.submit(tiny, i).result()
            return time.perf_counter() - t0

        s = best_of(reps, run)
    print(json.dumps({"workload": "round_trip", "workers": workers, "tasks": n,
                      "us_per_task": round(s / n * 1e6, 3)}), flush=True)


def map_throughput(reps, workers):
    cases = [(1, 5000), (10, 50000), (100, 200000), (1000, 1000000), (10000, 1000000)]
    with ProcessPoolExecutor(max_workers=workers) as ex:
        list(ex.map(square, range(100)))
        for chunksize, items in cases:
            def run():
                t0 = time.perf_counter()
                total = sum(ex.map(square, range(items), chunksize=chunksize))
                assert total > 0
                return time.perf_counter() - t0

            s = best_of(reps, run)
            print(json.dumps({"workload": "map", "workers": workers,
                              "chunksize": str(chunksize), "items": items,
                              "items_per_s": round(items / s)}), flush=True)


def fib_speedup(reps, workers):
    """Wall-time speed-up, and sequential CPU time over the busiest worker's CPU time
    (as in bench_procpool.cpp)."""
    n, jobs = 25, 16
    seq_cpu = [float("inf")]

    def sequential():
        t0, c0 = time.perf_counter(), time.thread_time()
        for _ in range(jobs):
            fib(n)
        seq_cpu[0] = min(seq_cpu[0], time.thread_time() - c0)
        return time.perf_counter() - t0

    seq = best_of(reps, sequential)
    busiest = [float("inf")]
    with ProcessPoolExecutor(max_workers=workers) as ex:
        list(ex.map(square, range(64)))

        def pooled():
            t0 = time.perf_counter()
            per_worker = {}
            for _, pid, cpu in ex.map(fib_timed, [n] * jobs):
                per_worker[pid] = per_worker.get(pid, 0.0) + cpu
            busiest[0] = min(busiest[0], max(per_worker.values()))
            return time.perf_counter() - t0

        par = best_of(reps, pooled)
    print(json.dumps({"workload": "fib", "workers": workers, "n": n, "jobs": jobs,
                      "sequential_s": round(seq, 4), "pool_s": round(par, 4),
                      "speedup": round(seq / par, 3),
                      "sequential_cpu_s": round(seq_cpu[0], 4),
                      "busiest_worker_cpu_s": round(busiest[0], 4),
                      "cpu_speedup": round(seq_cpu[0] / busiest[0], 3)}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    workers = os.cpu_count() or 1
    if args.only in ("", "round_trip"):
        round_trip(args.reps, workers)
    if args.only in ("", "map"):
        map_throughput(args.reps, workers)
    if args.only in ("", "fib"):
        fib_speedup(args.reps, workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
