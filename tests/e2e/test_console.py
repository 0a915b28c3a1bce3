"""The console chat an editor uses to try the bots (issue 12): the conversation is not drowned
in log lines (they go to ``data/console.log``; ``--verbose`` brings them back), and an edit of
the FAQ is picked up while the chat is open, as in the running bots."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import copy_bot_content
from tests.e2e.process import ROOT
from tests.semantic import EMBEDDING_CACHE

pytestmark = pytest.mark.e2e

NEW_QUESTION = "Можно ли получить выплату на жирафа из зоопарка"
NEW_ANSWER = "Нет: выплаты назначаются только на детей. Это проверочная запись."


def console_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "FAQ_EMBEDDING_CACHE": str(EMBEDDING_CACHE),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
            "BOTS_DIR": str(copy_bot_content(tmp_path / "bots")), "FAQ_RELOAD_INTERVAL": "0.2"}


def test_logs_go_to_a_file_and_verbose_brings_them_back(tmp_path: Path) -> None:
    env = console_env(tmp_path)
    quiet = subprocess.run([sys.executable, str(ROOT / "bot.py"), "--console"],
                           input="привет\n", capture_output=True, text=True, encoding="utf-8",
                           env=env, cwd=tmp_path, timeout=90, check=True)
    assert "Здравствуйте" in quiet.stdout
    assert " INFO " not in quiet.stderr, quiet.stderr
    log = (tmp_path / "data" / "console.log").read_text(encoding="utf-8")
    assert " INFO " in log
    loud = subprocess.run([sys.executable, str(ROOT / "bot.py"), "--console", "--verbose"],
                          input="привет\n", capture_output=True, text=True, encoding="utf-8",
                          env=env, cwd=tmp_path, timeout=90, check=True)
    assert " INFO " in loud.stderr


def test_an_faq_edit_is_answered_without_leaving_the_chat(tmp_path: Path) -> None:
    env = console_env(tmp_path)
    proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "--console"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            encoding="utf-8", env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout

    def read() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()

    def wait_for(text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                if text in lines.get(timeout=left):
                    return
            except queue.Empty:
                break
        pytest.fail(f"the console never printed {text!r}")

    try:
        wait_for("Чат с ботом")
        path = Path(env["BOTS_DIR"]) / "payments" / "faq.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["entries"].append({"id": "zz-giraffe", "question": NEW_QUESTION,
                                "answer": NEW_ANSWER})
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        log = tmp_path / "data" / "console.log"
        deadline = time.monotonic() + 60
        while "payments/faq.yaml reloaded" not in log.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, "the console never reloaded the FAQ"
            time.sleep(0.1)  # the reload is written to the log file only
        proc.stdin.write(NEW_QUESTION + "\n")
        proc.stdin.flush()
        wait_for(NEW_ANSWER[:40])
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
