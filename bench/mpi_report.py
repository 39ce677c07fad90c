#!/usr/bin/env python3
"""Renders bench/mpi.sh's results (JSON lines in OUT_DIR) as the MPI section of
docs/benchmarks.md. Goals (issue 14): MPIPoolExecutor's round trip within 2x of the raw
MPI ping-pong of the same run; map at least 10x mpi4py.futures' at each chunk size."""
import glob
import json
import os
import sys

ROUND_TRIP_GOAL = 2.0   # lanes-mpi median round trip / ping-pong median
MAP_GOAL = 10.0         # lanes-mpi map tasks/s / mpi4py map tasks/s


def load(out):
    rows, errors = [], []
    for path in sorted(glob.glob(os.path.join(out, "*.jsonl"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                (errors if "error" in r else rows).append(r)
    return rows, errors


def find(rows, **kv):
    for r in rows:
        if all(r.get(k) == v for k, v in kv.items()):
            return r
    return None


def us(v):
    return "—" if v is None else (f"{v:.1f} µs" if v < 1000 else f"{v / 1000:.2f} ms")


def rate(v):
    if v is None:
        return "—"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M/s"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k/s"
    return f"{v:.0f} /s"


def verdict(ok):
    return "**met**" if ok else "**missed**"


def main():
    out, reps, load_start, load_end, mpiver, m4pver = sys.argv[1:7]
    rows, errors = load(out)
    ranks = sorted({r["ranks"] for r in rows if "ranks" in r})
    p = []
    p.append("## MPI: MPIPoolExecutor beside mpi4py.futures and the process pool\n")
    p.append(f"Written by `bench/mpi.sh` in the same run: {mpiver} on this machine's shared "
             f"memory, `mpirun --oversubscribe -n N` (N ranks on {os.cpu_count()} cores: rank 0 "
             f"submits, N-1 serve), mpi4py {m4pver} (`bench/peers/mpi4py_pool.py`, started with "
             f"`python3 -m mpi4py.futures`), lanes' `ProcessPoolExecutor` with N-1 workers, and "
             f"the floor: a raw MPI_Send/MPI_Recv ping-pong of 64 bytes between ranks 0 and 1 "
             f"(`bench/mpi_pingpong.cpp`). Best of {reps} runs per map row; round trips are the "
             f"median of 3,000 calls (mpi4py: 500). Load average {load_start} before, "
             f"{load_end} after: the machine is shared, so compare within a row.\n")
    if errors:
        p.append("Missing or failed: " + "; ".join(
            f"{e.get('peer', '?')}: {e['error']}" for e in errors) + "\n")
    goals = []
    for n in ranks:
        p.append(f"### {n} ranks ({n - 1} workers)\n")
        pp = find(rows, peer="mpi-pingpong", ranks=n, workload="round_trip")
        lm = find(rows, peer="lanes-mpi", ranks=n, workload="round_trip")
        lp = find(rows, peer="lanes-processes", ranks=n, workload="round_trip")
        m4 = find(rows, peer="mpi4py", ranks=n, workload="round_trip")
        p.append("| round trip `submit(square, i).result()` | median | quartiles |")
        p.append("|---|---|---|")
        for name, r in (("raw MPI ping-pong (floor)", pp), ("lanes MPIPoolExecutor", lm),
                        ("lanes ProcessPoolExecutor", lp), ("mpi4py.futures", m4)):
            q = "—" if r is None else f"{us(r['p25_us'])} – {us(r['p75_us'])}"
            p.append(f"| {name} | {us(r and r['median_us'])} | {q} |")
        if pp and lm:
            ratio = lm["median_us"] / pp["median_us"]
            goals.append((f"{n} ranks: round trip ≤ {ROUND_TRIP_GOAL:g}x the ping-pong",
                          f"{ratio:.1f}x ({us(lm['median_us'])} vs {us(pp['median_us'])})",
                          ratio <= ROUND_TRIP_GOAL))
        p.append("")
        p.append("| `map(square, range)` by chunk size | lanes MPI | lanes processes | mpi4py | lanes MPI / mpi4py |")
        p.append("|---|---|---|---|---|")
        for c in (1, 10, 100, 1000, 0):
            a = find(rows, peer="lanes-mpi", ranks=n, workload="map", chunksize=c)
            b = find(rows, peer="lanes-processes", ranks=n, workload="map", chunksize=c)
            d = find(rows, peer="mpi4py", ranks=n, workload="map", chunksize=c)
            r = a["tasks_per_s"] / d["tasks_per_s"] if a and d else None
            label = "automatic (0)" if c == 0 else str(c)
            p.append(f"| {label} | {rate(a and a['tasks_per_s'])} | {rate(b and b['tasks_per_s'])} | "
                     f"{rate(d and d['tasks_per_s'])} | {'—' if r is None else f'{r:.1f}x'} |")
            if r is not None:
                goals.append((f"{n} ranks: map chunksize {c} ≥ {MAP_GOAL:g}x mpi4py", f"{r:.2f}x",
                              r >= MAP_GOAL))
        p.append("")
        a = find(rows, peer="lanes-mpi", ranks=n, workload="dispatch")
        b = find(rows, peer="lanes-processes", ranks=n, workload="dispatch")
        d = find(rows, peer="mpi4py", ranks=n, workload="dispatch")
        p.append("| | lanes MPI | lanes processes | mpi4py |")
        p.append("|---|---|---|---|")
        p.append(f"| dispatch: separate `submit()` futures, one frame each | {rate(a and a['tasks_per_s'])} | "
                 f"{rate(b and b['tasks_per_s'])} | {rate(d and d['tasks_per_s'])} |")
        cells = []
        for peer in ("lanes-mpi", "lanes-processes", "mpi4py"):
            r = find(rows, peer=peer, ranks=n, workload="idle_cpu")
            cells.append("—" if r is None else
                         f"root {r['root_cpu_s'] * 1000:.1f} ms, {r.get('workers_seen', '?')} workers "
                         f"{r['workers_cpu_s'] * 1000:.1f} ms")
        p.append(f"| CPU used over 2 s idle | {' | '.join(cells)} |")
        p.append("")
    if goals:
        p.append("| goal | this run | |")
        p.append("|---|---|---|")
        for name, value, ok in goals:
            p.append(f"| {name} | {value} | {verdict(ok)} |")
        p.append("")
    p.append("Notes. The ping-pong is two ranks blocked in MPI_Recv, each spinning on its own "
             "core, with nothing between the two sends. The pool's round trip adds two thread "
             "hand-offs in rank 0 — the caller queues the call for the progress thread, then "
             "sleeps in `Future::result()` on a futex until the progress thread completes the "
             "future and wakes it — plus encoding, a registry lookup on the worker, and ranks "
             "that yield their core while they poll (with more ranks than cores, a rank "
             "spinning without yielding takes the core from the one that has work). The goal "
             "of 2x the ping-pong needs the caller's own thread to do the MPI calls and to "
             "spin briefly before sleeping in `result()`; neither is done yet. Pipelining "
             "(4 calls in flight per rank) is what puts lanes' `map` and separate `submit()` "
             "calls far ahead of mpi4py, which sends one call at a time per rank. With large "
             "chunks (1000, automatic) the transport stops mattering: lanes over MPI and over "
             "processes land close together, both limited by rank 0 decoding answers and the "
             "caller iterating results on a shared core, while mpi4py's per-call overhead is "
             "amortised over the chunk, so the ratio to mpi4py shrinks there. Idle, rank "
             "0's progress thread waits on a condition variable (no CPU); worker ranks poll "
             "with sleeps growing to 1 ms, then 4 ms after 100 ms without work (the CPU row "
             "above). mpi4py's round trip is dominated by its own back-off sleeps.\n")
    print("\n".join(p))


if __name__ == "__main__":
    main()
