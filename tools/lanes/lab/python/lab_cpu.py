"""lanes lab, cpu experiment, Python side: fib(N) x K with the real GIL.

Embedded in the lanes binary and run with the python3 on PATH. Prints one
tab-separated record per line (see tools/lanes/lab/python_side.hpp).
"""
import argparse
import asyncio
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

# The row names, shared with the C++ side (tools/lanes/lab/ways.hpp), which writes
# lab_ways.py beside this script.
from lab_ways import EVENT_LOOP, PROCESS_POOL, SEQUENTIAL, THREAD_POOL, THREADS


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def cpu_seconds():
    # This process to the nanosecond; children (in clock ticks) once reaped: each pool
    # below is shut down inside its measurement.
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


def calibrate(target_ms):
    """Smallest n whose fib(n) takes at least target_ms here (at most 35)."""

    def time_ms(n):
        # The fastest of three: a run that was preempted would make fib look slower.
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            fib(n)
            best = min(best, (time.perf_counter() - t0) * 1000)
        return best

    n = 16
    ms = time_ms(n)
    while ms < 2 and n < 30:
        n += 2
        ms = time_ms(n)
    while ms < target_ms and n < 35:
        ms *= 1.618
        n += 1
    return n


def fastest(way, fn, expected, repeat):
    """The (wall, cpu) of the fastest of `repeat` runs of fn."""
    best = None
    for _ in range(max(1, repeat)):
        wall0, cpu0 = time.perf_counter(), cpu_seconds()
        total = fn()
        wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
        if total != expected:
            raise SystemExit(f"cpu/{way}: wrong total {total}, expected {expected}")
        if best is None or wall < best[0]:
            best = (wall, cpu)
    return best


def report(way, best, note):
    print(f"row\t{way}\t{best[0]:.6f}\t{best[1]:.6f}\tnote={note}", flush=True)


def measure(way, fn, expected, repeat, note=""):
    """Runs fn repeat times and reports the fastest run (as the C++ side does)."""
    print(f"progress\t{way}", flush=True)
    report(way, fastest(way, fn, expected, repeat), note)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=8)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--task-ms", type=float, default=100)
    ap.add_argument("--fib", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    n = a.fib or calibrate(a.task_ms)
    k = a.tasks
    print(f"info\tfib_n\t{n}", flush=True)
    expected = k * fib(n)

    def sequential():
        return sum(fib(n) for _ in range(k))

    def threads():
        out = [0] * k

        def work(i):
            out[i] = fib(n)

        ts = [threading.Thread(target=work, args=(i,)) for i in range(k)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return sum(out)

    def thread_pool():
        with ThreadPoolExecutor(max_workers=a.workers) as ex:
            return sum(ex.map(fib, [n] * k))

    def process_pool():
        with ProcessPoolExecutor(max_workers=a.workers) as ex:
            return sum(ex.map(fib, [n] * k))

    async def one(m):
        return fib(m)

    async def on_loop():
        tasks = [asyncio.create_task(one(n)) for _ in range(k)]
        return sum(await asyncio.gather(*tasks))

    r = a.repeat
    print("progress\tsequential", flush=True)
    base = fastest(SEQUENTIAL, sequential, expected, r)
    measure(THREADS, threads, expected, r, f"{k} threading.Threads")
    measure(THREAD_POOL, thread_pool, expected, r, f"ThreadPoolExecutor, {a.workers} workers")
    measure(PROCESS_POOL, process_pool, expected, r, f"ProcessPoolExecutor, {a.workers} workers")
    measure(EVENT_LOOP, lambda: asyncio.run(on_loop()), expected, r, "asyncio tasks")
    # The baseline once more, last, the faster kept: a burst of other work on the
    # machine during the first measurement would inflate every speed-up.
    print("progress\tsequential", flush=True)
    again = fastest(SEQUENTIAL, sequential, expected, r)
    report(SEQUENTIAL, min(base, again), "one after another")


if __name__ == "__main__":
    main()
