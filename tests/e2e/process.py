"""Run the real ``python bot.py`` as a subprocess and watch its log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from tests.semantic import EMBEDDING_CACHE

ROOT = Path(__file__).resolve().parents[2]
#: Not inherited from the developer's shell: the tests choose how the bots match.
MATCHING_CHOICES = frozenset({"FAQ_ENCODER", "FAQ_ENCODER_FAIL"})


class BotProcess:
    """``python bot.py`` with a given environment; its combined output is collected live.

    The FAQ vectors come from the tests' warm embedding cache unless ``env`` names another
    (``tests.e2e.conftest.base_env`` names a copy for copied bot folders).
    """

    def __init__(self, env: Mapping[str, str], *, args: tuple[str, ...] = (),
                 cwd: Path = ROOT) -> None:
        full_env = {k: v for k, v in os.environ.items()
                    if not k.endswith("_BOT_TOKEN") and k not in MATCHING_CHOICES}
        full_env.update(env)
        full_env.setdefault("PYTHONUNBUFFERED", "1")
        full_env.setdefault("FAQ_EMBEDDING_CACHE", str(EMBEDDING_CACHE))
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), *args],
            cwd=cwd, env=full_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding="utf-8",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self._lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self._lines)

    def wait_for_output(self, text: str, timeout: float = 60.0) -> str:
        """Block until a line containing ``text`` appears; returns that line."""
        def found() -> str | None:
            return next((line for line in self._lines if text in line), None)

        with self._changed:
            ok = self._changed.wait_for(
                lambda: found() is not None or self.proc.poll() is not None, timeout=timeout)
            line = found()
        if not ok or line is None:
            msg = f"bot.py never printed {text!r}; output so far:\n{self.output}"
            raise AssertionError(msg)
        return line

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait for a clean exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            msg = f"bot.py did not stop within {timeout} s after SIGTERM:\n{self.output}"
            raise AssertionError(msg) from None
        self._reader.join(timeout=5)
        return code

    def wait(self, timeout: float = 30.0) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code
