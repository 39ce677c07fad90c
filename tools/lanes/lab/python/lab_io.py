"""lanes lab, io experiment, Python side: K waits of L ms with the real GIL.

Each wait is an HTTP request to the lanes lab's loopback server (it answers after
L ms), then a 4 KiB file write + fsync + read back. Embedded in the lanes binary and
run with the python3 on PATH; prints tab-separated records (see python_side.hpp).
"""
import argparse
import asyncio
import os
import socket
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

# The row names, shared with the C++ side (tools/lanes/lab/ways.hpp), which writes
# lab_ways.py beside this script.
from lab_ways import EVENT_LOOP, PROCESS_POOL, SEQUENTIAL, THREAD_POOL, THREADS

DATA = bytes((ord("a") + i % 26) for i in range(4096))


def request(ms):
    return f"GET /wait?ms={ms} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


def check(answer):
    if not (answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"ok")):
        raise RuntimeError("unexpected answer from the lab's HTTP server")


def http_get(port, ms):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(request(ms))
        chunks = []
        while True:
            data = s.recv(1024)
            if not data:
                break
            chunks.append(data)
    check(b"".join(chunks))


def file_round_trip(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, DATA)
        os.fsync(fd)
    finally:
        os.close(fd)
    with open(path, "rb") as f:
        back = f.read()
    os.unlink(path)
    if back != DATA:
        raise RuntimeError("the data read back differs")


def one_wait(args):
    port, ms, path = args
    http_get(port, ms)
    file_round_trip(path)
    return 1


def cpu_seconds():
    # This process to the nanosecond; reaped children (pool workers) in clock ticks.
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


def measure(way, fn, note):
    print(f"progress\t{way}", flush=True)
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    fn()
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    print(f"row\t{way}\t{wall:.6f}\t{cpu:.6f}\tnote={note}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--waits", type=int, default=20)
    ap.add_argument("--wait-ms", type=int, default=50)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    k, ms = a.waits, a.wait_ms

    def jobs(who):
        return [(a.port, ms, os.path.join(a.dir, f"py-{who}-{i}.dat")) for i in range(k)]

    def sequential():
        for j in jobs("seq"):
            one_wait(j)

    def threads():
        ts = [threading.Thread(target=one_wait, args=(j,)) for j in jobs("thr")]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    def thread_pool():
        with ThreadPoolExecutor(max_workers=k) as ex:
            assert sum(ex.map(one_wait, jobs("tp"))) == k

    def process_pool():
        with ProcessPoolExecutor(max_workers=a.workers) as ex:
            assert sum(ex.map(one_wait, jobs("pp"))) == k

    async def wait_async(port, ms, path):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request(ms))
        await writer.drain()
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
        check(answer)
        await asyncio.to_thread(file_round_trip, path)

    async def on_loop():
        await asyncio.gather(*(wait_async(*j) for j in jobs("loop")))

    measure(SEQUENTIAL, sequential, "one after another")
    measure(THREADS, threads, f"{k} threading.Threads")
    measure(THREAD_POOL, thread_pool, f"ThreadPoolExecutor, {k} workers")
    measure(PROCESS_POOL, process_pool, f"ProcessPoolExecutor, {a.workers} workers")
    measure(EVENT_LOOP, lambda: asyncio.run(on_loop()), "asyncio; files via to_thread")


if __name__ == "__main__":
    main()
