"""RSS and Atom feeds served by a local HTTP server, polled by a live worker on the real
broker: new entries reach the raw topic once, across re-polls and a restart; a broken
feed backs off without holding up the others; bad entries are dead-lettered."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from streams.settings import Settings
from tests.integration.conftest import read_topic
from tests.support.worker_process import free_port

pytestmark = pytest.mark.integration


def rss(entries: list[str]) -> bytes:
    items = "".join(
        f"<item><guid>{e}</guid><title>Report {e}</title><description>About {e}</description>"
        f"<pubDate>Mon, 01 Jun 2026 10:00:00 GMT</pubDate></item>"
        for e in entries
    )
    untitled = "<item><guid>untitled</guid><description>no title</description></item>"
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local Watch</title>'
        f"{items}{untitled}</channel></rss>"
    ).encode()


ATOM = (
    b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title>'
    b"<entry><id>urn:a1</id><title>Atom one</title><updated>2026-06-01T09:00:00Z</updated></entry>"
    b"<entry><id>urn:a2</id><title>Atom two</title><updated>2026-06-01T09:05:00Z</updated></entry>"
    b"</feed>"
)


class Feeds:
    """What the server serves, and what it was asked."""

    def __init__(self) -> None:
        self.rss_entries = ["r1", "r2"]
        self.requests: Counter[str] = Counter()
        self.not_modified = 0

    def etag(self) -> str:
        return f'"v{len(self.rss_entries)}"'


@pytest.fixture
def feeds() -> Iterator[tuple[Feeds, int]]:
    state = Feeds()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests[self.path] += 1
            if self.path == "/local.rss":
                if self.headers.get("If-None-Match") == state.etag():
                    state.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self._send(rss(state.rss_entries), "application/rss+xml", state.etag())
            elif self.path == "/wire.atom":
                self._send(ATOM, "application/atom+xml", None)
            else:
                self.send_response(500)
                self.end_headers()

        def _send(self, body: bytes, ctype: str, etag: str | None) -> None:
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, port
    server.shutdown()
    server.server_close()


def test_feed_entries_reach_the_raw_topic_once(
    settings: Settings, worker_factory, feeds: tuple[Feeds, int]
) -> None:
    served, port = feeds
    base = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(
        update={
            "feeds": Settings.model_validate(
                {
                    "feeds": [
                        {"url": f"{base}/local.rss", "region": "Baltics", "name": "local"},
                        f"{base}/wire.atom",
                        {"url": f"{base}/broken?token=secret", "name": "broken"},
                    ]
                }
            ).feeds,
            "feed_interval": 1.0,
            "feed_max_backoff": 60.0,
        }
    )
    worker = worker_factory(settings)
    # 2 RSS entries + 1 untitled entry + 2 Atom entries; the untitled one is dead-lettered.
    metrics = worker.wait_until(
        "five entries in, the RSS feed re-polled, the broken feed failing",
        lambda m: (
            m.get("watchfloor_records_received_total") == 5
            and m.get('watchfloor_feed_polls_total{feed="local",outcome="not_modified"}', 0) >= 1
            and m.get('watchfloor_feed_polls_total{feed="broken",outcome="error"}', 0) >= 2
        ),
    )
    assert metrics["watchfloor_items_ingested_total"] == 4
    assert metrics['watchfloor_items_deadlettered_total{reason="validation_failed"}'] == 1
    assert served.not_modified >= 1
    assert "secret" not in json.dumps(metrics)  # the query string stays out of labels

    served.rss_entries.append("r3")  # a new entry: a new ETag
    worker.wait_until(
        "the new entry alone", lambda m: m.get("watchfloor_records_received_total") == 6
    )
    worker.stop()

    # A restart restores the feed state from its changelog: nothing is sent again.
    restarted = worker_factory(settings)
    polled = served.requests["/local.rss"]
    restarted.wait_until(
        "the restarted worker polling again",
        lambda m: m.get('watchfloor_feed_polls_total{feed="local",outcome="not_modified"}', 0) >= 1,
    )
    assert served.requests["/local.rss"] > polled
    time.sleep(2)
    ids = [orjson.loads(v)["id"] for _, v in read_topic(settings, settings.topic_raw)]
    host = "127.0.0.1|"
    assert sorted(ids) == [host + i for i in ("r1", "r2", "r3", "untitled", "urn:a1", "urn:a2")]
    # The broken feed backed off (2 s, 4 s, 8 s, ...) instead of being hammered every second.
    assert served.requests["/broken?token=secret"] <= 6
    for log in (worker.log, restarted.log):
        assert "secret" not in log.read_text(errors="replace")
