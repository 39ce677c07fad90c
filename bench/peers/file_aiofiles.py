"""Python's side of the file benchmark (bench/files.sh): asyncio + aiofiles (which runs
each operation on a thread), TASKS concurrent tasks doing 4 KiB random reads or 1 MiB
writes that fill an existing (sparse) file in order — the same work as bench/file_lanes.cpp.

    file_aiofiles.py randread PATH SECONDS TASKS
    file_aiofiles.py seqwrite PATH MIB TASKS
"""
import asyncio
import os
import random
import sys
import time

import aiofiles


async def randread(path, seconds, tasks):
    pages = os.stat(path).st_size // 4096
    totals = {"ops": 0, "bytes": 0}
    end = time.monotonic() + seconds

    async def reader(seed):
        rng = random.Random(seed)
        # One file object per task: aiofiles' read after seek is not safe to share.
        async with aiofiles.open(path, "rb") as f:
            while time.monotonic() < end:
                await f.seek(rng.randrange(pages) * 4096)
                data = await f.read(4096)
                totals["ops"] += 1
                totals["bytes"] += len(data)

    await asyncio.gather(*(reader(1234 + i) for i in range(tasks)))
    return totals


async def seqwrite(path, mib, tasks):
    block = b"w" * (1 << 20)
    totals = {"ops": 0, "bytes": 0}
    state = {"next": 0}

    async def writer():
        async with aiofiles.open(path, "r+b") as f:
            while state["next"] < mib:
                b = state["next"]
                state["next"] += 1
                await f.seek(b * len(block))
                await f.write(block)  # a buffered writer takes all of it or raises
                totals["bytes"] += len(block)
                await f.flush()
                totals["ops"] += 1

    await asyncio.gather(*(writer() for _ in range(tasks)))
    return totals


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    mode, path, amount, tasks = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    start = time.monotonic()
    if mode == "randread":
        totals = asyncio.run(randread(path, amount, tasks))
    else:
        totals = asyncio.run(seqwrite(path, int(amount), tasks))
    secs = time.monotonic() - start
    print(f"backend=aiofiles ops={totals['ops']} bytes={totals['bytes']} seconds={secs:.3f} "
          f"iops={totals['ops'] / secs:.0f} mib_per_s={totals['bytes'] / secs / (1 << 20):.1f}")


if __name__ == "__main__":
    main()
