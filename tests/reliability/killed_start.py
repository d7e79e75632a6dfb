"""Kill a starting ``billig`` at a given moment, in namespaces of its own; list what is left.

Run as root: ``unshare --mount --ipc --pid --fork --mount-proc python -m
tests.reliability.killed_start SECONDS BILLIG-ARGS…``. This process is then the namespaces' first
process: a fresh tmpfs on ``/dev/shm`` and a fresh System V table hold only what the killed run
made; the processes it leaves (its reaper and what the reaper stops) become our children, and
once none is left, the leftovers are printed as one JSON object (shared memory files, System V
segments, cluster directories, cache staging folders, processes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SHM = Path("/dev/shm")
CLUSTERS = SHM / "clusters"  # BILLIG_MIRROR_TMPDIR of the run
CACHE = SHM / "cache"  # XDG_CACHE_HOME of the run: a cold cache, stores included
SETTLE_TIMEOUT = 60.0


def others() -> list[int]:
    """Live processes of the namespace other than this one (zombies are reaped here)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    state = stat.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                found.append(int(entry))
    return found


def main() -> None:
    delay, args = float(sys.argv[1]), sys.argv[2:]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777", "billig-shm", str(SHM)], check=True)
    CLUSTERS.mkdir(mode=0o755)
    env = {**os.environ, "BILLIG_MIRROR_TMPDIR": str(CLUSTERS), "XDG_CACHE_HOME": str(CACHE)}
    proc = subprocess.Popen(
        args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while others() and time.monotonic() < deadline:
        time.sleep(0.05)
    with open("/proc/sysvipc/shm") as table:
        sysv = [line.split()[1] for line in table.readlines()[1:] if line.split()]
    cache_root = CACHE / "billig-harness"
    left = {
        "shm": sorted(p.name for p in SHM.iterdir() if p.name.startswith("PostgreSQL.")),
        "sysv": sysv,
        "clusters": sorted(p.name for p in CLUSTERS.iterdir()),
        "cache_staging": sorted(
            str(p.relative_to(cache_root)) for p in cache_root.rglob(".*-*") if p.is_dir()
        )
        if cache_root.exists()
        else [],
        "processes": [Path(f"/proc/{pid}/cmdline").read_text() for pid in others()],
    }
    print(json.dumps(left))


if __name__ == "__main__":
    main()
