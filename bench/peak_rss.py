"""Run a Python script; at its exit write its peak resident set size to a file.

    python -m bench.peak_rss RESULT SCRIPT [ARGS...]

``VmHWM`` of ``/proc/self/status``: the peak of this process image, counted from exec.
(``ru_maxrss`` of a child is not: Linux carries the parent's peak at fork into it.)
"""

from __future__ import annotations

import atexit
import runpy
import sys
from pathlib import Path


def write_peak(result: Path) -> None:
    status = Path("/proc/self/status").read_text(encoding="ascii")
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    result.write_text(str(int(line.split()[1]) / 1024), encoding="ascii")


def main() -> None:
    result, script, *args = sys.argv[1:]
    sys.argv = [script, *args]
    atexit.register(write_peak, Path(result))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
