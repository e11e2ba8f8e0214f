"""The built wheel, installed in a fresh virtual environment outside the checkout: the
broker, the status command, a replay and a worker all run from the installed package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.worker_process import free_port, open_local

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# What a wheel is built from; the rest of the checkout (.venv, .git, broker data) is not.
SOURCES = ("pyproject.toml", "README.md", "streams")


def build_wheel(work: Path) -> Path:
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, source / name)
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--wheel-dir", str(dist), str(source)], check=True, timeout=300)
    (wheel,) = dist.glob("watchfloor-*.whl")
    return wheel


def test_the_wheel_runs_the_broker_status_replay_and_worker_outside_the_checkout(
    tmp_path: Path,
) -> None:
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = [str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)]
    subprocess.run(install, check=True, timeout=600)
    wf = str(venv / "bin" / "watchfloor")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")},
        "PYTHONPATH": "",  # nothing from the checkout
        "WATCHFLOOR_HOME": str(tmp_path / "home"),
        "WATCHFLOOR_KAFKA_PORT": str(free_port()),
        "WATCHFLOOR_KAFKA_CONTROLLER_PORT": str(free_port()),
        "WATCHFLOOR_WEB_PORT": str(port),
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [wf, *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
            check=check,
        )  # fmt: skip

    version = run("--version").stdout
    assert version.startswith("watchfloor 0.")
    run("kafka", "up")
    try:
        feed = tmp_path / "feed.jsonl"
        run("sample", "--days", "2", "--out", str(feed))  # the sample text ships too
        sent = feed.read_bytes().count(b"\n")
        assert "sent" in run("replay", str(feed)).stdout
        shown = run("status", "--json", check=False)
        assert shown.returncode == 0, shown.stderr[-3000:]
        status = json.loads(shown.stdout)
        assert status["ok"] and all(n == 1 for n in status["topics"].values())
        ingest = next(g for g in status["groups"] if g["reads"] == "ingest")
        assert ingest["total"] == sent  # nothing has read them yet

        log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen([wf, "worker"], cwd=elsewhere, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with open_local(f"http://127.0.0.1:{port}/v1/alerts", timeout=3) as resp:
                        json.loads(resp.read())
                    with open_local(f"http://127.0.0.1:{port}/board/", timeout=3) as resp:
                        assert b"Watchfloor" in resp.read()
                    status = json.loads(run("status", "--json").stdout)
                    ingest = next(g for g in status["groups"] if g["reads"] == "ingest")
                    # Ingest caught up, and detection has taken its ticks since.
                    if ingest["total"] == 0 and (status["worker"].get("watermark") or 0) > 0:
                        break
                except OSError:
                    pass
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "the installed worker did not catch up"
                time.sleep(1)
            assert status["worker"]["up"]
        finally:
            worker.terminate()
            worker.wait(timeout=60)
            log.close()
    finally:
        run("kafka", "down", check=False)
