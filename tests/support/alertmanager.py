"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) and a webhook
receiver it notifies, for tests of alert delivery."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import URLError

import yaml

from tests.support.worker_process import open_local

__all__ = ["Alertmanager", "WebhookReceiver", "alertmanager_config"]


class WebhookReceiver:
    """An HTTP server that keeps every notification Alertmanager posts to it."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert of every notification so far."""
        return [a for note in list(self.received) for a in note["alerts"]]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def alertmanager_config(webhook_url: str) -> dict[str, Any]:
    """Every alert to ``webhook_url`` within a second: a test waits for no group."""
    return {
        "route": {
            "receiver": "hook",
            "group_by": ["alertname", "signal", "region"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "hook", "webhook_configs": [{"url": webhook_url}]}],
    }


class Alertmanager:
    """One Alertmanager process on ``port`` with the configuration given, in ``work``."""

    def __init__(self, binary: str, work: Path, config: dict[str, Any], port: int) -> None:
        self.binary = binary
        self.work = work
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        work.mkdir(parents=True, exist_ok=True)
        self.config_file = work / "alertmanager.yml"
        self.config_file.write_text(yaml.safe_dump(config))
        self.log = work / "alertmanager.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [
                    self.binary,
                    f"--config.file={self.config_file}",
                    f"--storage.path={self.work / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--cluster.listen-address=",  # one instance: no gossip port
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Alertmanager did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def ready(self) -> bool:
        try:
            with open_local(f"{self.url}/-/ready", timeout=2) as resp:
                return bool(resp.status == 200)
        except (URLError, OSError):
            return False

    def alerts(self) -> list[dict[str, Any]]:
        """``GET /api/v2/alerts``: active, silenced and inhibited alerts alike."""
        with open_local(f"{self.url}/api/v2/alerts", timeout=5) as resp:
            return list(json.loads(resp.read()))

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
