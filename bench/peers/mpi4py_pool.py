"""mpi4py.futures.MPIPoolExecutor on bench/mpi_pool_bench.cpp's workloads.

    mpirun -n N python3 -m mpi4py.futures bench/peers/mpi4py_pool.py [--reps R]

Rank 0 runs this file; the other ranks serve (mpi4py's own `-m mpi4py.futures` start).
Fewer calls than the C++ side where Python is slow; the rates are per second either way.
One JSON line per result, as the C++ side prints them.
"""
import json
import os
import resource
import sys
import time

from mpi4py import MPI
from mpi4py.futures import MPIPoolExecutor


def square(x):
    return x * x


def worker_cpu(_):
    u = resource.getrusage(resource.RUSAGE_SELF)
    return os.getpid(), u.ru_utime + u.ru_stime


def emit(**kv):
    print(json.dumps(dict(peer="mpi4py", ranks=MPI.COMM_WORLD.Get_size(), **kv)), flush=True)


def main():
    reps = 3
    if "--reps" in sys.argv:
        reps = int(sys.argv[sys.argv.index("--reps") + 1])
    with MPIPoolExecutor() as pool:
        workers = MPI.COMM_WORLD.Get_size() - 1
        for i in range(50):
            pool.submit(square, i).result()
        us = []
        for i in range(500):
            t = time.perf_counter()
            pool.submit(square, i).result()
            us.append((time.perf_counter() - t) * 1e6)
        us.sort()
        emit(workload="round_trip", median_us=us[len(us) // 2], p25_us=us[len(us) // 4],
             p75_us=us[len(us) * 3 // 4])
        for chunk in (1, 10, 100, 1000):
            n = {1: 5_000, 10: 50_000, 100: 200_000}.get(chunk, 1_000_000)
            best = 0.0
            for _ in range(reps):
                t = time.perf_counter()
                total = sum(pool.map(square, range(n), chunksize=chunk))
                best = max(best, n / (time.perf_counter() - t))
                assert total >= 0
            emit(workload="map", chunksize=chunk, tasks_per_s=best)
        n = 10_000
        best = 0.0
        for _ in range(reps):
            t = time.perf_counter()
            fs = [pool.submit(square, i & 1023) for i in range(n)]
            for f in fs:
                f.result()
            best = max(best, n / (time.perf_counter() - t))
        emit(workload="dispatch", tasks_per_s=best)

        def all_workers_cpu():
            seen = {}
            for pid, cpu in [f.result() for f in [pool.submit(worker_cpu, 0) for _ in range(16 * workers)]]:
                seen[pid] = max(seen.get(pid, 0.0), cpu)
            return seen

        w0 = all_workers_cpu()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        time.sleep(2)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        w1 = all_workers_cpu()
        both = [pid for pid in w1 if pid in w0]
        emit(workload="idle_cpu", seconds=2,
             root_cpu_s=(r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime),
             workers_cpu_s=sum(w1[p] - w0[p] for p in both), workers_seen=len(both))

if __name__ == "__main__":
    main()
