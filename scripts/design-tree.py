#!/usr/bin/env python3
"""Writes the tree of include/ and src/ into docs/design.md, between the markers
<!-- tree:begin --> and <!-- tree:end -->, one line per file with what its opening
comment says it holds. `--check` only compares and exits 1 when the docs are stale
(a ctest runs it, so the tree in the docs cannot drift from the real one)."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "design.md"
BEGIN, END = "<!-- tree:begin -->", "<!-- tree:end -->"
SUBSYSTEMS = {
    "core": "tasks, futures, the loop, timers, timeouts, task groups, errors",
    "io": "the reactor interface and its OS backends, descriptors, files",
    "net": "sockets, streams, servers, datagrams",
    "os": "subprocesses and signals",
    "sync": "locks, events, semaphores, barriers, queues",
    "threads": "the thread pool, its deques and parking, blocking waits",
    "process": "the process pool: executor, workers, supervisor, registry, wire",
    "tls": "TLS on OpenSSL: contexts and the encrypted transport",
    "mpi": "MPIPoolExecutor on Open MPI (library lanes::mpi)",
}
WIDTH = 92


def summary(path: pathlib.Path) -> str:
    """The first comment line of a file, without its own name."""
    for line in path.read_text(errors="replace").splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith("//"):
            return ""
        text = s.lstrip("/").strip()
        text = re.sub(r"^\S+\.(hpp|cpp|h)\s+[—-]+\s*", "", text)
        return text.rstrip(".")
    return ""


def render() -> str:
    lines = []
    for top in ("include/lanes", "src"):
        base = ROOT / top
        for d in [base] + sorted(p for p in base.rglob("*") if p.is_dir()):
            files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix in (".hpp", ".cpp", ".h"))
            rel = d.relative_to(ROOT).as_posix() + "/"
            note = SUBSYSTEMS.get(d.name, "")
            lines.append(f"{rel:<34}{note}".rstrip())
            for f in files:
                entry = f"  {f.name:<32}{summary(f)}"
                if len(entry) > WIDTH:
                    entry = entry[: WIDTH - 1] + "…"
                lines.append(entry.rstrip())
    return "```\n" + "\n".join(lines) + "\n```"


def main() -> int:
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        print(f"design-tree: {DOC} lacks the markers {BEGIN} / {END}", file=sys.stderr)
        return 2
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + BEGIN + "\n" + render() + "\n" + END + tail
    if "--check" in sys.argv[1:]:
        if new != text:
            print("design-tree: docs/design.md's tree differs from include/ and src/: "
                  "run `python3 scripts/design-tree.py` and commit", file=sys.stderr)
            return 1
        print("design-tree: docs/design.md matches the tree")
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
