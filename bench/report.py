#!/usr/bin/env python3
"""Renders one workload group of docs/benchmarks.md from the raw results of bench/run.sh.

  report.py GROUP RESULTS_DIR   -> markdown on stdout

RESULTS_DIR holds what run.sh collected for GROUP: lanes.json (Google Benchmark's
JSON, with repetitions), one <peer>.jsonl per peer (one JSON object per line, keyed
by "workload"; a line with "error" and no workload means the peer did not run), and
optionally profile_*.txt (perf's top symbols of lanes' side).

Each group is one render_<group> function; run.sh calls this script once per group
and assembles the document from the parts.
"""
import json
import os
import re
import sys

# ---- loading ----------------------------------------------------------------------

# Google Benchmark run names -> the workload names the peers print.
LANES_NAMES = [
    (re.compile(r"^BM_spawn_gather/(void|int)/\d+"), lambda m: f"spawn_gather_{m[1]}"),
    (re.compile(r"^BM_spawn_gather_warm/(void|int)/\d+"),
     lambda m: f"spawn_gather_{m[1]}_warm"),
    (re.compile(r"^BM_await_chain/(\d+)/(\d+)"), lambda m: f"await_chain_{m[1]}x{m[2]}"),
    (re.compile(r"^BM_await_seq/(\d+)"), lambda m: f"await_seq_{m[1]}"),
    (re.compile(r"^BM_sleep_100k/(\d+)"), lambda m: f"sleep_{m[1]}"),
]


class Peer:
    """The results of one program: workload -> record, or why it has none."""

    def __init__(self, name, records=None, error=None):
        self.name = name
        self.records = records or {}
        self.error = error

    def get(self, workload, key):
        rec = self.records.get(workload)
        if rec is None or key not in rec:
            return None
        return rec[key]

    def why_missing(self, workload):
        rec = self.records.get(workload)
        if rec and "skipped" in rec:
            return rec["skipped"]
        if rec and "error" in rec:
            return rec["error"]
        return self.error or "not measured"


def load_lanes(results_dir):
    path = os.path.join(results_dir, "lanes.json")
    if not os.path.exists(path):
        return Peer("lanes", error="bench_core did not run")
    with open(path) as f:
        data = json.load(f)
    records = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        for pattern, name_of in LANES_NAMES:
            m = pattern.match(b["run_name"])
            if m:
                break
        else:
            continue
        name = name_of(m)
        rec = records.setdefault(name, {"runs": 0})
        rec["runs"] += 1
        # Best of the repetitions for times; the other counters are the same in each.
        for key in ("ns_per_item", "wall_s"):
            if key in b:
                rec[key] = min(b[key], rec.get(key, float("inf")))
        for key, value in b.items():
            if key not in rec and isinstance(value, (int, float)):
                rec[key] = value
    return Peer("lanes", records)


def load_jsonl(results_dir, peer):
    path = os.path.join(results_dir, f"{peer}.jsonl")
    if not os.path.exists(path):
        return Peer(peer, error="did not run")
    records, error = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "workload" in rec:
                records[rec["workload"]] = rec
            elif "error" in rec:
                error = rec["error"]
    if not records and error is None:
        error = "printed no result"
    return Peer(peer, records, error)


def read_profile(results_dir, name):
    path = os.path.join(results_dir, f"profile_{name}.txt")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        # perf pads its table with empty sort columns ("-  -"): keep share, dso, symbol.
        lines = [re.sub(r"(\s+-)+\s*$", "", ln).rstrip() for ln in f if ln.strip()]
    return lines or None


# ---- formatting -------------------------------------------------------------------

def fmt_ns(ns):
    if ns is None:
        return "—"
    if ns >= 1000:
        return f"{ns / 1000:.2f} µs"
    return f"{ns:.1f} ns"


def fmt_s(s):
    return "—" if s is None else f"{s:.3f} s"


def fmt_bytes(b):
    return "—" if b is None else f"{b:,.0f} B"


def ratio(peer_value, lanes_value):
    """peer / lanes: above 1, lanes is faster (or smaller)."""
    if peer_value is None or lanes_value is None or lanes_value <= 0:
        return None
    return peer_value / lanes_value


def fmt_ratio(r):
    if r is None:
        return "—"
    return f"**{r:.2f}x**" if r >= 1 else f"{r:.2f}x"


def cell(peer, workload, key, fmt):
    value = peer.get(workload, key)
    if value is None:
        return "n/a"
    return fmt(value)


def goal_ratio(measured, goal):
    """ ", 1.35x the goal" after a missed upper bound (measured / goal)."""
    if measured is None or goal <= 0 or measured <= goal:
        return ""
    return f", {measured / goal:.2f}x the goal"


def verdict(ok):
    if ok is None:
        return "not measured"
    return "**met**" if ok else "**missed**"


def missing_notes(peers, workloads):
    """One line per peer/workload that has no figure, saying why."""
    notes = []
    for p in peers:
        for w in workloads:
            if p.get(w, "ns_per_item") is None and p.get(w, "wall_s") is None:
                notes.append(f"- {p.name}, `{w}`: {p.why_missing(w)}")
    return notes


def profile_block(lines, title):
    if not lines:
        return []
    out = [f"{title} (`perf record`, share of lanes' CPU samples, top symbols):", "", "```"]
    out += lines
    out += ["```", ""]
    return out


# ---- group: core ------------------------------------------------------------------

# The goals of the core group (issue "benchmarks of the coroutine core").
SPAWN_GOAL_NS = 200.0
SPAWN_GOAL_VS_ASIO = 1.5
SLEEP_GOAL_WALL_S = 0.150
SLEEP_GOAL_BYTES = 256.0
# Issue 15: the same 100k sleeps as the first thing a new process does.
SLEEP_GOAL_COLD_WALL_S = 0.130


def render_core(results_dir):
    lanes = load_lanes(results_dir)
    asio = load_jsonl(results_dir, "asio")
    aio = load_jsonl(results_dir, "asyncio")
    go = load_jsonl(results_dir, "go")
    threads = load_jsonl(results_dir, "threads")
    out = ["## The coroutine core", ""]

    # -- spawn + gather --
    out += ["### create_task + gather of 1,000,000 trivial tasks", "",
            "One task creates 1M tasks of a coroutine that returns at once, then gathers",
            "them (lanes: `co_await lanes::gather(std::move(futures))`). Asio: `co_spawn`",
            "with a completion handler that stores the result and counts down, the spawner",
            "waiting on a timer the last one cancels (Boost 1.74 has no `parallel_group`).",
            "asyncio: `gather(*[create_task(...)])`. *New loop*: each run makes a loop",
            "(`lanes::run`, an `io_context`, `asyncio.run`), the way a one-shot program",
            "does. *One loop*: the bursts follow each other in a loop that lives on, after",
            "one untimed burst, the way a long-running program does.", "",
            "| task | loop | lanes | Asio `co_spawn` | asyncio | Asio / lanes | asyncio / lanes |",
            "|---|---|---|---|---|---|---|"]
    spawn_rows = [("spawn_gather_void", "`Task<void>`", "new"),
                  ("spawn_gather_int", "`Task<int>`", "new"),
                  ("spawn_gather_void_warm", "`Task<void>`", "one"),
                  ("spawn_gather_int_warm", "`Task<int>`", "one")]
    for w, label, loop in spawn_rows:
        ln = lanes.get(w, "ns_per_item")
        out.append(f"| {label} | {loop} | {fmt_ns(ln)} | {cell(asio, w, 'ns_per_item', fmt_ns)} | "
                   f"{cell(aio, w, 'ns_per_item', fmt_ns)} | "
                   f"{fmt_ratio(ratio(asio.get(w, 'ns_per_item'), ln))} | "
                   f"{fmt_ratio(ratio(aio.get(w, 'ns_per_item'), ln))} |")
    out.append("")

    def judge(rows, value, good):
        """'met' / 'missed' for the new-loop rows and the one-loop rows."""
        parts, oks = [], []
        for loop in ("new", "one"):
            vals = [value(w) for w, _, lp in rows if lp == loop]
            ok = None if (not vals or None in vals) else all(good(v) for v in vals)
            oks.append(ok)
            parts.append(f"{verdict(ok)} ({loop} loop)")
        return ", ".join(parts), oks

    def spawn_ns(w):
        return lanes.get(w, "ns_per_item")

    def spawn_vs(w):
        return ratio(asio.get(w, "ns_per_item"), lanes.get(w, "ns_per_item"))

    ns_text, ns_oks = judge(spawn_rows, spawn_ns, lambda v: v <= SPAWN_GOAL_NS)
    vs_text, vs_oks = judge(spawn_rows, spawn_vs, lambda v: v >= SPAWN_GOAL_VS_ASIO)
    out += ["| goal | measured (void / int; new loop, then one loop) | |", "|---|---|---|",
            f"| ≤ {SPAWN_GOAL_NS:.0f} ns per create_task + gather | "
            f"{' / '.join(fmt_ns(spawn_ns(w)) for w, _, _ in spawn_rows)} | {ns_text} |",
            f"| ≥ {SPAWN_GOAL_VS_ASIO}x faster than Asio `co_spawn` | "
            f"{' / '.join(fmt_ratio(spawn_vs(w)) for w, _, _ in spawn_rows)} | {vs_text} |",
            ""]
    if False in ns_oks or False in vs_oks:
        out += ["**What limits it.** " + spawn_limits(lanes), ""]
        out += profile_block(read_profile(results_dir, "spawn"),
                             "Profile of `BM_spawn_gather/void` (new loop per run)")

    # -- await chains --
    out += ["### Awaiting a Task", "",
            "A Task awaiting a Task: `chain(d)` awaits `chain(d-1)` down to 0 (a new frame",
            "per level, a transfer down and one back up), repeated; and 1M awaits in a row",
            "of a Task that returns at once. Per await. No goal was set for these; they",
            "show what one level of `co_await` costs.", "",
            "| workload | lanes | Asio `awaitable` | asyncio | Asio / lanes | asyncio / lanes |",
            "|---|---|---|---|---|---|"]
    for w, label in [("await_chain_1000x1000", "chain 1,000 deep, 1,000 times"),
                     ("await_chain_1000000x1", "chain 1,000,000 deep, once"),
                     ("await_seq_1000000", "1,000,000 awaits in a row")]:
        ln = lanes.get(w, "ns_per_item")
        out.append(f"| {label} | {fmt_ns(ln)} | {cell(asio, w, 'ns_per_item', fmt_ns)} | "
                   f"{cell(aio, w, 'ns_per_item', fmt_ns)} | "
                   f"{fmt_ratio(ratio(asio.get(w, 'ns_per_item'), ln))} | "
                   f"{fmt_ratio(ratio(aio.get(w, 'ns_per_item'), ln))} |")
    out.append("")
    deep = ratio(asio.get("await_chain_1000000x1", "ns_per_item"),
                 lanes.get("await_chain_1000000x1", "ns_per_item"))
    if deep is not None and deep < 1:
        out += [
            "The 1,000,000-deep chain holds 1M frames at once (over 100 MB): it measures "
            "memory traffic more than the await. lanes' frames come from the thread's "
            "frame cache, which keeps the blocks freed by the benchmarks before it, "
            "so where in memory the chain lands depends on what ran before; Asio's "
            "come from malloc, in the order malloc likes best.", ""]

    # -- sleeps --
    w = "sleep_100000"
    out += ["### 100,000 concurrent `sleep(100 ms)`", "",
            "Each run: a new loop; one task creates 100k tasks that each sleep 100 ms, then",
            "gathers them. Wall time from the first create_task to the end of the run (the",
            "ideal is 0.100 s). Bytes per task: the peak of the bytes live on the loop",
            "thread while they sleep, divided by the tasks (counting `operator new` in",
            "lanes and Asio, `tracemalloc` in Python, `StackInuse + HeapInuse` in Go, the",
            "resident set for threads); containers (the futures, the timer heap, the",
            "ready queue) are included.", "",
            "| peer | tasks | wall (best) | over 100 ms | bytes / task | peer / lanes wall | "
            "peer / lanes bytes |",
            "|---|---|---|---|---|---|---|"]
    lw = lanes.get(w, "wall_s")
    lb = lanes.get(w, "bytes_per_task")
    out.append(f"| lanes | 100,000 | {fmt_s(lw)} | {fmt_over(lw)} | {fmt_bytes(lb)} | | |")
    cold = lanes.get(w, "cold_wall_s")
    if cold is not None:
        out.append(f"| lanes, first run on a fresh thread | 100,000 | {fmt_s(cold)} | "
                   f"{fmt_over(cold)} | {fmt_bytes(lb)} | | |")
    cpw = lanes.get(w, "cold_process_wall_s")
    cpb = lanes.get(w, "cold_process_bytes_per_task")
    cpr = lanes.get(w, "cold_process_rss_per_task")
    if cpw is not None:
        out.append(f"| lanes, first run in a fresh process (median of 5) | 100,000 | "
                   f"{fmt_s(cpw)} | {fmt_over(cpw)} | {fmt_bytes(cpb)} counted, "
                   f"{fmt_bytes(cpr)} RSS | | |")
    for peer, label, workload, tasks in [
            (asio, "Boost.Asio (`co_spawn` + `steady_timer`)", w, "100,000"),
            (aio, "Python asyncio", w, "100,000"),
            (go, "Go goroutines", w, "100,000"),
            (threads, "OS threads (`std::thread` + `sleep_for`)", "sleep_10000", "10,000")]:
        pw = peer.get(workload, "wall_s")
        pb = peer.get(workload, "bytes_per_task")
        if pw is None:
            out.append(f"| {label} | {tasks} | n/a: {peer.why_missing(workload)} | | | | |")
            continue
        out.append(f"| {label} | {tasks} | {fmt_s(pw)} | {fmt_over(pw)} | {fmt_bytes(pb)} | "
                   f"{fmt_ratio(ratio(pw, lw))} | {fmt_ratio(ratio(pb, lb))} |")
    out += ["",
            "Threads: 10,000, not 100,000 — each maps a stack and a guard page, and",
            "`vm.max_map_count` stops a process near 32k threads; their bytes are the",
            "resident set only (each also reserves an 8 MiB virtual stack and a kernel stack).",
            ""]
    ok_wall = None if lw is None else lw <= SLEEP_GOAL_WALL_S
    ok_bytes = None if lb is None else lb <= SLEEP_GOAL_BYTES
    out += ["| goal | measured | |", "|---|---|---|",
            f"| 100k sleeps done within {SLEEP_GOAL_WALL_S:.2f} s of wall time | {fmt_s(lw)} | "
            f"{verdict(ok_wall)} |",
            f"| ≤ {SLEEP_GOAL_BYTES:.0f} bytes per sleeping task | {fmt_bytes(lb)} | "
            f"{verdict(ok_bytes)}{goal_ratio(lb, SLEEP_GOAL_BYTES)} |"]
    if cpw is not None:
        ok_cpw = cpw <= SLEEP_GOAL_COLD_WALL_S
        ok_cpr = None if cpr is None else cpr <= SLEEP_GOAL_BYTES
        out += [f"| ≤ {SLEEP_GOAL_BYTES:.0f} bytes per sleeping task by RSS (fresh process: "
                f"peak resident set over the one before the run) | {fmt_bytes(cpr)} | "
                f"{verdict(ok_cpr)}{goal_ratio(cpr, SLEEP_GOAL_BYTES)} |",
                f"| 100k sleeps within {SLEEP_GOAL_COLD_WALL_S:.3f} s, first run in a fresh "
                f"process | {fmt_s(cpw)} | {verdict(ok_cpw)}"
                f"{goal_ratio(cpw, SLEEP_GOAL_COLD_WALL_S)} |"]
    out += [""]
    sizes = sorted((int(m[1]), v) for k, v in lanes.records.get(w, {}).items()
                   if (m := re.fullmatch(r"alloc_(\d+)B_per_task", k)))
    if sizes:
        parts = [f"{v:.2f} × {s} B" if abs(v - round(v)) > 0.01 else f"{round(v)} × {s} B"
                 for s, v in sizes]
        allocs = lanes.get(w, "allocs_per_task")
        out += [f"lanes' allocations per sleeping task ({allocs:.2f} in all, requested sizes "
                f"rounded up to 16 B in this count): {', '.join(parts)}; the rest of the "
                f"{fmt_bytes(lb)} is the containers and malloc's rounding.", ""]
    if ok_wall is False:
        out += ["**What limits the wall time.** " + SLEEP_WALL_LIMITS, ""]
        out += profile_block(read_profile(results_dir, "sleep"), "Profile of `BM_sleep_100k`")
    if ok_bytes is False:
        out += ["**What limits the bytes.** " + sleep_bytes_limits(lanes.records.get(w, {})), ""]
    if cpw is not None and cpw > SLEEP_GOAL_COLD_WALL_S:
        out += ["**What limits the first run in a fresh process.** " + SLEEP_COLD_LIMITS, ""]

    notes = missing_notes([lanes, asio, aio], [w for w, _, _ in spawn_rows])
    if notes:
        out += ["Not measured:", ""] + notes + [""]
    return out


def fmt_over(wall_s):
    return "—" if wall_s is None else f"+{(wall_s - 0.100) * 1000:.0f} ms"


# What limits the core workloads when a goal is missed. Written from the profiles and
# allocation counts of these benchmarks (perf record, callgrind, the counting operator
# new of bench/alloc_counter.hpp); the figures in them are this run's.

def spawn_limits(lanes):
    cold = lanes.get("spawn_gather_void", "ns_per_item")
    warm = lanes.get("spawn_gather_void_warm", "ns_per_item")
    text = (
        "With a new loop per run, the task states and coroutine frames still come from "
        "the thread's frame cache (it keeps up to 512 MiB across loops), but the "
        "loop's containers (the ready queue's nodes, the futures vector) grow from "
        "scratch, with their page faults.")
    if cold is not None and warm is not None:
        text += (f" In one loop that lives on the blocks come from the cache: "
                 f"{fmt_ns(warm)} per task instead of {fmt_ns(cold)}.")
    text += (
        " What remains is memory traffic, not instructions: 1M task states and frames "
        "(a few hundred MB) are far bigger than the caches, and after the spawn has "
        "written them `gather` walks the cold states three more times: to list its "
        "callback node on each (`FutureStateBase::add_callback`, a spin lock per "
        "state), to copy the values out (`FutureState::get`), and to drop the "
        "references (`~vector`, `~FutureStateBase`); each walk is a cache miss per "
        "task. Taking each child's value and reference in its completion callback, "
        "while its state is still in the cache, would save two of them.")
    return text


SLEEP_COLD_LIMITS = (
    "In a new process every block is new memory: about 35 MB for 100k sleepers, "
    "each 4 KiB page a fault that the kernel zero-fills (about 9,400 faults, most of "
    "the process's 20+ ms of system time; `perf stat`). Timestamps inside one such "
    "run: the 100k create_task calls end 21-31 ms after the start (2-3x their warm "
    "cost: the faults), the first steps (which arm the timers) 12-15 ms later, the "
    "last wake-up 100 ms after the last timer was armed, the gather 3-7 ms later. "
    "The figure therefore follows the bytes per task. Transparent huge pages would "
    "remove most faults, but on this machine THP is `madvise` with synchronous "
    "compaction: a first 28 MB madvise'd region took 197 ms to fault in, later ones "
    "16 ms (4 KiB pages: 28-32 ms), so the allocator does not ask for them. "
    "`MADV_POPULATE_WRITE` ahead of the allocations measured no faster than the faults.")


SLEEP_WALL_LIMITS = (
    "The wall time is the spawn (create 100k tasks, then their first steps arm the "
    "timers) + 100 ms + the firing, + the tear-down. The timers fall due at the pace "
    "they were armed, but each expiry pops the 4-ary timer heap, and every comparison "
    "in its sift-down follows a pointer to the deadline inside a coroutine frame (one "
    "cache miss per child, four children per level, eight levels at 100k): popping "
    "costs several times what arming did, so the last wake-ups trail their deadlines. "
    "`TimerHeap::sift_down` is the top of the profile.")


def sleep_bytes_limits(rec):
    sizes = {int(m[1]): v for k, v in rec.items()
             if (m := re.fullmatch(r"alloc_(\d+)B_per_task", k))}
    objects = sum(size * count for size, count in sizes.items())
    total = rec.get("bytes_per_task")
    text = (
        "Each sleeping task holds two blocks (the sizes above): its task state (the "
        "future's state, 40 B, the value slot, and the task's scheduling fields: loop, "
        "resume point, cancel hook, the awaited-chain and cycle-check pointers, the "
        "links in the loop's list of live tasks, the root coroutine) and the sleeper's "
        "coroutine frame (resume/destroy pointers, the promise with its continuation, "
        "chain links and error slot, the argument, and the `SleepAwaiter`: a 24-byte "
        "timer node, the cancel hook and the task pointer). Both requests are 8 bytes "
        "short of a multiple of 16, which is what glibc serves without waste.")
    if total is not None and objects:
        text += (
            f" Requested, at most {objects:.0f} B a task (the count rounds each request "
            f"up to 16 B); the containers bring it to "
            f"{total:.0f} B: 40 B for the gather's callback node per child (one block "
            "for all), 8 B for the futures the gather holds, and 8 B each in the ready "
            "queue's ring (all 100k are ready at once after the spawn) and the timer "
            "run's ring, the last two rounded up to powers of two.")
    text += (
        " Merging the two blocks (the state in the root frame's allocation) would save "
        "only the state's copy of the root handle: the root frame keeps its promise's "
        "continuation, chain and error fields, which a root does not use but a frame "
        "cannot drop, since the coroutine is made before anyone knows it will be a "
        "root. Below 256 B needs a smaller task protocol (the future's state and the "
        "scheduling fields are 112 B of the 136) and a gather that needs no node per "
        "child: see docs/design.md, \"Memory per task\".")
    return text


# ---- group: thread_pool -----------------------------------------------------------

# The goals of issue 4 (thread pool benchmarks).
POOL_TINY_GOAL_VS_TBB = 1.0
POOL_FIB_GOAL_SPEEDUP = 1.85
POOL_FIB_GOAL_VS_TBB = 1.0
# The goals of issue 15 (performance step), against oneTBB's task_group in the same run.
POOL_TINY_OUTSIDE_GOAL_VS_TBB = 1.3
POOL_TINY_INSIDE_GOAL_VS_TBB = 1.2


def load_rounds(results_dir, peer):
    """<peer>.<round>.jsonl files -> Peer whose records keep, per workload, the least
    wall_s, cpu_s and busiest_s over every round (each taken separately), plus the
    load averages the rounds started at."""
    import glob
    files = sorted(glob.glob(os.path.join(results_dir, f"{peer}.*.jsonl")))
    if not files:
        return Peer(peer, error="did not run")
    records, error = {}, None
    for path in files:
        one = load_jsonl(os.path.dirname(path), os.path.basename(path)[:-len(".jsonl")])
        if one.error and not one.records:
            error = one.error
        for w, rec in one.records.items():
            best = records.setdefault(w, dict(rec, rounds=0, loads=[]))
            best["rounds"] += 1
            if "loadavg" in rec:
                best["loads"].append(rec["loadavg"])
            for key in ("wall_s", "cpu_s"):
                if key in rec:
                    best[key] = min(best[key], rec[key])
            if rec.get("busiest_s", 0) and rec["busiest_s"] < best.get("busiest_s", float("inf")):
                best["busiest_s"], best["threads"] = rec["busiest_s"], rec.get("threads")
    return Peer(peer, records, None if records else error)


def fmt_ms(s):
    return "—" if s is None else f"{s * 1000:.2f} ms"


def per_task(peer, w, key):
    value, tasks = peer.get(w, key), peer.get(w, "tasks")
    if value is None or not tasks:
        return None
    return value / tasks * 1e9


def read_text(results_dir, name):
    try:
        with open(os.path.join(results_dir, name)) as f:
            return f.read().strip()
    except OSError:
        return "?"


def render_thread_pool(results_dir):
    lanes = load_rounds(results_dir, "lanes")
    tbb = load_rounds(results_dir, "tbb")
    omp = load_rounds(results_dir, "openmp")
    py = load_rounds(results_dir, "python")
    rounds = lanes.get("tiny_tasks", "rounds") or lanes.get("fib", "rounds") or "?"
    workers = lanes.get("tiny_tasks", "workers") or lanes.get("fib", "workers") or "?"
    tbb_ver = tbb.get("tiny_tasks", "version") or tbb.get("fib", "version")
    py_ver = py.get("tiny_tasks", "version")
    out = ["## Thread pool: lanes ThreadPoolExecutor vs oneTBB, OpenMP, Python", "",
           f"`bench/bench_thread_pool` (lanes, {workers} workers: one per core), "
           f"`peers/pool_tbb.cpp` (oneTBB{' ' + tbb_ver if tbb_ver else ''}), "
           "`peers/pool_openmp.cpp` (OpenMP tasks, g++ `-fopenmp`: libgomp) and "
           f"`peers/pool_python.py` (Python{' ' + py_ver if py_ver else ''} "
           "`concurrent.futures.ThreadPoolExecutor`), each with one thread per core, in "
           f"{rounds} interleaved rounds of the same run ({lanes.get('tiny_tasks', 'reps') or '?'} "
           f"tiny-task runs and {lanes.get('fib', 'reps') or '?'} fib runs per round, after "
           "an untimed one); every figure is the best over all runs of all rounds. The sequential code below the fork-join cut-off is one "
           "function (`bench/pool_work.hpp`) compiled alike for every C++ side.", "",
           f"Load average {read_text(results_dir, 'load_start')} at the start of the group, "
           f"{read_text(results_dir, 'load_end')} at the end, on "
           f"{os.cpu_count()} cores: the machine is shared, and while it is loaded "
           "the wall times measure the scheduler of the machine as much as the pools. So "
           "each table also has CPU time, summed from every thread's own clock (spinning "
           "included; other programs do not inflate it), and for fork-join the CPU time of "
           "the busiest thread: on free cores, with threads that never block, the wall time "
           "would be about that.", ""]

    # -- (a) tiny tasks --
    w = "tiny_tasks"
    out += ["### 1,000,000 tiny tasks: submit all, then wait for all", "",
            "Each task returns (or stores) `i + 1`; the results are summed after the wait. "
            "lanes: `pool.submit(tiny, i)` from the main thread (outside the pool: each job "
            "goes through the injection stack), then `result()` of every future. oneTBB: "
            "`task_group::run` then `wait()` (the waiting thread runs tasks too). OpenMP: one "
            "thread of a parallel region creates `omp task`s, then `taskwait`. Python: "
            "`executor.submit` then `result()`, 100,000 tasks (each costs microseconds), "
            "compared per task.", "",
            "| peer | tasks | wall (best) | wall per task | CPU per task (all threads) | "
            "peer / lanes wall | peer / lanes CPU |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    lw, lc = per_task(lanes, w, "wall_s"), per_task(lanes, w, "cpu_s")
    for peer, label in [(lanes, "lanes `ThreadPoolExecutor`"), (tbb, "oneTBB `task_group`"),
                        (omp, "OpenMP tasks (libgomp)"),
                        (py, "Python `ThreadPoolExecutor`")]:
        pw, pc = per_task(peer, w, "wall_s"), per_task(peer, w, "cpu_s")
        if pw is None:
            out.append(f"| {label} | n/a: {peer.why_missing(w)} | | | | | |")
            continue
        rw = "" if peer is lanes else fmt_ratio(ratio(pw, lw))
        rc = "" if peer is lanes else fmt_ratio(ratio(pc, lc))
        out.append(f"| {label} | {peer.get(w, 'tasks'):,} | {fmt_ms(peer.get(w, 'wall_s'))} | "
                   f"{fmt_ns(pw)} | {fmt_ns(pc)} | {rw} | {rc} |")
    out.append("")
    tw = ratio(per_task(tbb, w, "wall_s"), lw)
    tc = ratio(per_task(tbb, w, "cpu_s"), lc)
    out += ["| goal | measured | |", "|---|---|---|",
            f"| ≥ {POOL_TINY_GOAL_VS_TBB:.1f}x oneTBB, wall time | {fmt_ratio(tw)} | "
            f"{verdict(None if tw is None else tw >= POOL_TINY_GOAL_VS_TBB)} |",
            f"| ≥ {POOL_TINY_GOAL_VS_TBB:.1f}x oneTBB, CPU time | {fmt_ratio(tc)} | "
            f"{verdict(None if tc is None else tc >= POOL_TINY_GOAL_VS_TBB)} |", ""]
    out += [TINY_NOTES, ""]

    # -- (a') the same from inside a pool job (issue 15) --
    wi = "tiny_inside"
    out += ["### 1,000,000 tiny tasks submitted from inside a pool job (fork-join shape)", "",
            "lanes: one job submits the tasks (each goes to that worker's own deque), then "
            "`result()` of each (a helping wait). oneTBB: a `task_group` task `run()`s them "
            "into a nested `task_group`, then `wait()`s. Compared with oneTBB's better form "
            "(this one or the outside one above), as issue 15 asks. Both lanes rows pay a "
            "`Future` per task (oneTBB's tasks have none): the same work, 1M tiny tasks whose "
            "results are summed, with more bookkeeping on the lanes side.", "",
            "| peer | wall per task | CPU per task (all threads) |", "|---|---:|---:|"]
    for peer, label in [(lanes, "lanes `ThreadPoolExecutor`"), (tbb, "oneTBB `task_group`")]:
        pw, pc = per_task(peer, wi, "wall_s"), per_task(peer, wi, "cpu_s")
        if pw is None:
            out.append(f"| {label} | n/a: {peer.why_missing(wi)} | |")
        else:
            out.append(f"| {label} | {fmt_ns(pw)} | {fmt_ns(pc)} |")
    out.append("")
    liw, lic = per_task(lanes, wi, "wall_s"), per_task(lanes, wi, "cpu_s")
    tbw = min_or_none(per_task(tbb, w, "wall_s"), per_task(tbb, wi, "wall_s"))
    tbc = min_or_none(per_task(tbb, w, "cpu_s"), per_task(tbb, wi, "cpu_s"))
    goals15 = []
    for label, goal, lw_, lc_ in [("outside", POOL_TINY_OUTSIDE_GOAL_VS_TBB, lw, lc),
                                  ("inside a job", POOL_TINY_INSIDE_GOAL_VS_TBB, liw, lic)]:
        for how, mine, theirs in [("wall time", lw_, tbw), ("CPU time", lc_, tbc)]:
            r = ratio(theirs, mine)
            goals15.append((f"submitted {label}: ≥ {goal:.1f}x oneTBB (its better form), {how}",
                            fmt_ratio(r), None if r is None else r >= goal))
    out += ["| goal (issue 15) | measured | |", "|---|---|---|"]
    out += [f"| {g} | {m} | {verdict(ok)} |" for g, m, ok in goals15]
    out.append("")
    if ((tw is not None and tw < POOL_TINY_GOAL_VS_TBB) or (tc is not None and tc < POOL_TINY_GOAL_VS_TBB)
            or any(ok is False for _, _, ok in goals15)):
        out += ["**What limits it.** " + TINY_LIMITS, ""]
        out += profile_block(read_profile(results_dir, "tiny"), "Profile of lanes' tiny tasks")

    # -- (b) fork-join fib --
    n = lanes.get("fib", "n") or 32
    cutoff = lanes.get("fib", "cutoff") or 20
    jobs = lanes.get("fib", "tasks")
    out += [f"### Fork-join fib({n}), sequential below {cutoff}", "",
            f"Every call with n ≥ {cutoff} forks fib(n-1) and computes fib(n-2) itself, then "
            f"joins ({jobs if jobs else '?'} forks in all); below {cutoff}, plain recursion. "
            "lanes: `pool.submit(fib_pool, std::ref(pool), n - 1)` and `result()` inside the "
            "job (a helping wait: the worker runs other jobs meanwhile). oneTBB: a "
            "`task_group` per call (`run`, then `wait`), and `parallel_invoke`. OpenMP: "
            "`omp task` + `taskwait`. Each side's speed-up is against the sequential "
            "recursion measured in the same program. Speed-up by CPU time: sequential CPU "
            "time over the busiest thread's.", "",
            "| | wall (best) | CPU, all threads | busiest thread | speed-up (wall) | "
            "speed-up (CPU time) | scheduling overhead | peer / lanes wall | "
            "peer / lanes busiest |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    seq_w, seq_c = lanes.get("fib_seq", "wall_s"), lanes.get("fib_seq", "cpu_s")
    out.append(f"| sequential (lanes' program) | {fmt_ms(seq_w)} | {fmt_ms(seq_c)} | "
               f"{fmt_ms(seq_c)} | 1.00x | 1.00x | | | |")
    l_w, l_b = lanes.get("fib", "wall_s"), lanes.get("fib", "busiest_s")
    speedups = {}
    for peer, wl, label in [(lanes, "fib", "lanes `submit` + `result()`"),
                            (tbb, "fib", "oneTBB `task_group`"),
                            (tbb, "fib_invoke", "oneTBB `parallel_invoke`"),
                            (omp, "fib", "OpenMP tasks")]:
        pw, pc, pb = peer.get(wl, "wall_s"), peer.get(wl, "cpu_s"), peer.get(wl, "busiest_s")
        if pw is None:
            out.append(f"| {label} | n/a: {peer.why_missing(wl)} | | | | | | | |")
            continue
        sw, sc = peer.get("fib_seq", "wall_s"), peer.get("fib_seq", "cpu_s")
        s_wall, s_cpu = ratio(sw, pw), ratio(sc, pb)
        overhead = None if not sc or pc is None else (pc / sc - 1) * 100
        speedups[(peer.name, wl)] = (s_wall, s_cpu)
        rw = "" if peer is lanes else fmt_ratio(ratio(pw, l_w))
        rb = "" if peer is lanes else fmt_ratio(ratio(pb, l_b))
        out.append(f"| {label} | {fmt_ms(pw)} | {fmt_ms(pc)} | {fmt_ms(pb)} | "
                   f"{fmt_x(s_wall)} | {fmt_x(s_cpu)} | "
                   f"{'—' if overhead is None else f'{overhead:+.1f}%'} | {rw} | {rb} |")
    out.append("")
    l_sw, l_sc = speedups.get(("lanes", "fib"), (None, None))
    best_tbb_w = min_or_none(tbb.get("fib", "wall_s"), tbb.get("fib_invoke", "wall_s"))
    best_tbb_b = min_or_none(tbb.get("fib", "busiest_s"), tbb.get("fib_invoke", "busiest_s"))
    vw, vb = ratio(best_tbb_w, l_w), ratio(best_tbb_b, l_b)
    goals = [
        (f"≥ {POOL_FIB_GOAL_SPEEDUP}x over sequential, wall time", fmt_x(l_sw),
         None if l_sw is None else l_sw >= POOL_FIB_GOAL_SPEEDUP),
        (f"≥ {POOL_FIB_GOAL_SPEEDUP}x over sequential, CPU time", fmt_x(l_sc),
         None if l_sc is None else l_sc >= POOL_FIB_GOAL_SPEEDUP),
        (f"≥ {POOL_FIB_GOAL_VS_TBB:.1f}x oneTBB (its better form), wall time", fmt_ratio(vw),
         None if vw is None else vw >= POOL_FIB_GOAL_VS_TBB),
        (f"≥ {POOL_FIB_GOAL_VS_TBB:.1f}x oneTBB (its better form), busiest thread's CPU time",
         fmt_ratio(vb), None if vb is None else vb >= POOL_FIB_GOAL_VS_TBB)]
    out += ["| goal | measured | |", "|---|---|---|"]
    out += [f"| {g} | {m} | {verdict(ok)} |" for g, m, ok in goals]
    out += ["", fib_notes(seq_c), ""]
    if any(ok is False for _, _, ok in goals):
        prof = read_profile(results_dir, "fib")
        out += ["**What limits it.** " + fib_limits(goals, lanes, tbb, prof), ""]
        out += profile_block(prof, "Profile of lanes' fork-join fib")
    out += ["Python is not in this table: a `concurrent.futures` job that waits for a job it "
            "submitted blocks its worker, so fib through `submit` + `result()` deadlocks "
            "once every worker waits (and the GIL would keep it to one core anyway).", ""]

    notes = missing_notes([lanes, tbb, omp, py], ["tiny_tasks"])
    notes += missing_notes([lanes, tbb, omp], ["fib"])
    if notes:
        out += ["Not measured:", ""] + notes + [""]
    return out


def fmt_x(r):
    return "—" if r is None else f"{r:.2f}x"


def min_or_none(*values):
    values = [v for v in values if v is not None]
    return min(values) if values else None


TINY_NOTES = (
    "OpenMP's figure is not a scheduler's: libgomp runs a new task at once, in the "
    "thread that creates it, whenever more than 64 tasks per thread are queued, so "
    "nearly all of its 1M tasks are plain calls in the creating thread and the other "
    "thread has little to do. lanes and oneTBB queue every task. lanes has one more "
    "thread than the others here (the submitting main thread beside its two workers); "
    "oneTBB's main thread is one of its two.")

TINY_LIMITS = (
    "lanes does more per task than oneTBB here: `submit` returns a `Future`, so each "
    "task has a state that the worker completes and the submitter reads (`result()`) and "
    "frees, while `task_group::run` returns nothing and its tasks store into an array; the "
    "bench has no lanes row without futures. Per task lanes now pays: one block of 80 "
    "bytes (the job and its future's state, from the per-thread block cache), one CAS to "
    "start the job (`set_running`, so that `cancel()` and the start agree), one CAS to "
    "publish the result (`complete_exclusive`: no lock while no callback was ever added), "
    "one atomic decrement for the job's reference (the future's last release is a plain "
    "load), and the scheduler's share: from outside, one CAS on the injection stack, and a "
    "push and a pop of the worker's deque (the pop's store-load fence, which the Chase-Lev "
    "protocol needs); from inside, the owner's pop fence or a thief's fence and CAS per "
    "steal. On a loaded machine the best runs are those where the threads barely overlap, "
    "so CPU per task measures that single-thread path; on free cores the workers also "
    "spin between bursts (`find_work`, `run_worker`) before they park. What is left to "
    "take: the pop fence (a split deque whose private part needs none), the job's "
    "reference decrement (a reference count inside the state word would let the "
    "completing CAS drop it), and the memory each task streams (1M blocks of 80 bytes "
    "plus malloc's 16-byte header pass through the caches between submit and result()).")


def fib_notes(seq_cpu_s):
    work = "a few ms" if seq_cpu_s is None else f"about {seq_cpu_s * 1000:.1f} ms"
    return (
        "Scheduling overhead: the CPU time of all threads over the sequential CPU time, "
        "minus one (the forks, the joins, the steals, idle spinning, and the variation of "
        f"CPU speed between runs). fib(32) is {work} of work, the order of one time slice "
        "of the Linux scheduler, so on a loaded machine a worker that loses its core for "
        "one slice doubles the wall time of that run. The best of many short runs is "
        "therefore taken, and the speed-up by CPU time shows what the pools themselves do.")


def fib_limits(goals, lanes, tbb, profile):
    missed = [g for g, _, ok in goals if ok is False]
    text = "Missed: " + "; ".join(missed) + ". "
    if any("wall" in g for g in missed):
        text += ("The wall time needs both workers on a core for the whole run at once; "
                 "with the load average above the core count that is luck, and the best "
                 "of the runs measures how lucky the side was as much as the side. ")
    if any("CPU" in g for g in missed):
        seq = lanes.get("fib_seq", "cpu_s")
        parts = []
        for peer, wl, label in [(lanes, "fib", "lanes'"), (tbb, "fib", "oneTBB's task_group's"),
                                (tbb, "fib_invoke", "parallel_invoke's")]:
            b = peer.get(wl, "busiest_s")
            if b is not None and seq:
                parts.append(f"{label} {(b / (seq / 2) - 1) * 100:+.1f}%")
        if parts:
            text += ("Busiest thread against a perfect split (half the sequential CPU "
                     "time): " + ", ".join(parts) + ". ")
        share = None
        for line in profile or []:
            m = re.match(r"\s*([0-9.]+)%.*fib_seq", line)
            if m:
                share = float(m[1])
        if share is not None:
            text += f"`fib_seq` holds {share:.1f}% of lanes' CPU samples"
            if not any("lanes::" in line for line in profile):
                text += " and no symbol of the pool reaches the profile's 1.5% threshold"
            text += ". "
        lb = lanes.get("fib", "busiest_s")
        tb = min_or_none(tbb.get("fib", "busiest_s"), tbb.get("fib_invoke", "busiest_s"))
        if lb is not None and tb is not None and lb <= tb * 1.03:
            text += ("So a difference of a few percent in CPU time is not the scheduler's "
                     "work but the noise of CPU time on a shared machine: the same code runs "
                     "slower while other programs share the caches and memory bandwidth, "
                     "and that changes between runs.")
        else:
            text += ("lanes' busiest thread used more than 3% more CPU time than oneTBB's: "
                     "more than this machine's noise; the profile below shows where.")
    return text


# ---- tls: echo over TLS and handshakes per core (bench/tls.sh) --------------------

TLS_LABELS = {
    "lanes": "lanes (ssl= on start_server; readinto + write + drain)",
    "asio": "Boost.Asio ssl::stream, C++20 coroutines",
    "openssl": "OpenSSL alone (epoll loop, SSL_read/SSL_write)",
    "asyncio": "Python asyncio, ssl=",
}


def parse_kv(line):
    return dict(tok.split("=", 1) for tok in line.split() if "=" in tok)


def render_tls(results_dir):
    out = ["## TLS: echo and handshakes", ""]
    meta = {}
    meta_path = os.path.join(results_dir, "meta.txt")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key:
                    meta[key] = value
    if "error" in meta or not os.path.exists(os.path.join(results_dir, "raw.txt")):
        out += [f"Not run: {meta.get('error', 'no results (bench/tls.sh did not run)')}.", ""]
        return out
    best = {}   # server -> {"echo_rate", "echo_cpu", "hs_rate", "hs_cpu"}
    errors = {}
    with open(os.path.join(results_dir, "raw.txt")) as f:
        for line in f:
            kv = parse_kv(line)
            name, mode = kv.get("server"), kv.get("mode")
            if not name:
                continue
            if "per_s" not in kv:
                errors.setdefault(name, kv.get("error", "failed"))
                continue
            b = best.setdefault(name, {})
            prefix = "echo" if mode == "echo" else "hs"
            rate, cpu = float(kv["per_s"]), float(kv.get("cpu_us_per_unit", "0"))
            b[prefix + "_rate"] = max(b.get(prefix + "_rate", 0.0), rate)
            if cpu > 0:
                b[prefix + "_cpu"] = min(b.get(prefix + "_cpu", cpu), cpu)
    lanes = best.get("lanes", {})

    def per_core(b):
        return 1e6 / b["hs_cpu"] if b.get("hs_cpu") else None

    out += [
        f"The TCP echo of the previous section over TLS 1.3 (ECDSA P-256 certificate, "
        f"{meta.get('connections', '100')} connections, {meta.get('size', '64')}-byte ping-pong, "
        f"{meta.get('seconds', '5')} s after {meta.get('warmup', '1')} s of warm-up), then full "
        "handshakes one after another (connect, handshake without resumption, one echo, close). "
        f"Best of {meta.get('reps', '3')} interleaved rounds; one load generator for all "
        "(bench/tls_load.cpp: plain OpenSSL, epoll, one thread)"
        + (", pinned to CPU 0 and the server to CPU 1" if meta.get("pinned") == "yes" else "")
        + ". Server CPU is its user + system time over the measured window (/proc): the load "
        "generator does as much crypto as the server, so throughput is the generator's limit and "
        "CPU per unit is the fair comparison. Handshakes per core = 1 s / server CPU per "
        f"handshake. {meta.get('openssl', '')}; Python {meta.get('python', '?')}. Load average "
        f"before/after: {meta.get('load_start', '?')} / {meta.get('load_end', '?')}.",
        "",
        "| server | echo messages/s | server CPU µs/message | handshakes/s (wall) "
        "| server CPU µs/handshake | handshakes per core/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("lanes", "asio", "openssl", "asyncio"):
        b = best.get(name)
        label = TLS_LABELS[name]
        if not b:
            out.append(f"| {label} | {errors.get(name, 'not run')} | | | | |")
            continue

        def num(key, fmt="{:.0f}"):
            return fmt.format(b[key]) if key in b else "n/a"

        pc = per_core(b)
        out.append(f"| {label} | {num('echo_rate')} | {num('echo_cpu', '{:.2f}')} | {num('hs_rate')} "
                   f"| {num('hs_cpu', '{:.0f}')} | {'n/a' if pc is None else f'{pc:.0f}'} |")
    out.append("")

    goals = []
    asio, asyncio_, openssl = best.get("asio", {}), best.get("asyncio", {}), best.get("openssl", {})
    if lanes.get("echo_cpu") and asio.get("echo_cpu"):
        r = asio["echo_cpu"] / lanes["echo_cpu"]
        goals.append(f"- Echo CPU per message at most Asio's: lanes {lanes['echo_cpu']:.2f} µs vs "
                     f"{asio['echo_cpu']:.2f} µs ({fmt_x(r)} less) — {verdict(r >= 1.0)}")
    else:
        goals.append(f"- Echo CPU per message at most Asio's — {verdict(None)}")
    if lanes.get("echo_cpu") and asyncio_.get("echo_cpu"):
        r = asyncio_["echo_cpu"] / lanes["echo_cpu"]
        rr = ratio(lanes.get("echo_rate"), asyncio_.get("echo_rate"))  # lanes / asyncio
        rate_note = "" if rr is None else f"; messages/s {rr:.2f}x asyncio's"
        goals.append(f"- At least 3x Python asyncio (CPU per message): {fmt_x(r)}{rate_note} — "
                     f"{verdict(r >= 3.0)}")
        if r < 3.0 and openssl.get("echo_cpu"):
            floor = asyncio_["echo_cpu"] / openssl["echo_cpu"]
            goals.append(f"  What limits it: OpenSSL alone, with no framework at all, is {fmt_x(floor)} "
                         f"asyncio here ({openssl['echo_cpu']:.2f} µs per message of record crypto and "
                         "system calls, which every server pays); lanes adds "
                         f"{lanes['echo_cpu'] - openssl['echo_cpu']:.2f} µs to it. 3x asyncio would need "
                         f"{asyncio_['echo_cpu'] / 3:.2f} µs per message"
                         + (", below that floor." if asyncio_["echo_cpu"] / 3 < openssl["echo_cpu"] else "."))
    else:
        goals.append(f"- At least 3x Python asyncio — {verdict(None)}")
    if per_core(lanes) and per_core(openssl):
        r = per_core(lanes) / per_core(openssl)
        goals.append(f"- Handshakes per core within 10% of OpenSSL alone: lanes {per_core(lanes):.0f}/s vs "
                     f"{per_core(openssl):.0f}/s ({r:.2f}x) — {verdict(r >= 0.9)}")
    else:
        goals.append(f"- Handshakes per core within 10% of OpenSSL alone — {verdict(None)}")
    out += ["Goals (issue 12):", ""] + goals + [
        "",
        "CPU time is read in clock ticks (10 ms): over a 5 s window a server using a fraction "
        "of its core is known to a few per cent, so small differences are noise.",
        "",
        f"Raw runs: `{os.path.join(results_dir, 'raw.txt')}`.",
        "",
    ]
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py GROUP RESULTS_DIR")
    group, results_dir = sys.argv[1], sys.argv[2]
    render = globals().get(f"render_{group}")
    if render is None:
        sys.exit(f"report.py: no renderer for group '{group}'")
    print("\n".join(render(results_dir)))


if __name__ == "__main__":
    main()
