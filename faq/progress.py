"""Progress of long encoding jobs on the console, in Russian: ``векторы фраз FAQ: 64/468``.

Used by the editor tools and the unanswered report. A warm embedding cache encodes nothing
and prints nothing; a cold build prints at most about ten lines.
"""

from __future__ import annotations

import sys
from typing import TextIO

STEP = 0.1  # print when at least another tenth of the work is done


class ProgressLine:
    """A ``(done, total)`` callback (see :data:`faq.embeddings.Progress`) printing to stderr."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self._stream = stream
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        if total <= 0:
            return
        if done == 0 or done < self._shown:
            self._shown = -1  # a new job (e.g. the next FAQ file) with the same label
        elif done == self._shown or (done < total and done - self._shown < STEP * total):
            return
        self._shown = done
        stream = self._stream or sys.stderr
        stream.write(f"{self.label}: {done}/{total}\n")
        stream.flush()
