"""POST /v1/items on a live worker: accepted items reach the raw topic, the rest are answered
with the reason and dead-lettered, and nothing read is lost."""

from __future__ import annotations

import base64
import json
import socket

import orjson
import pytest
from pydantic import SecretStr

from streams.settings import Settings
from tests.integration.conftest import read_topic
from tests.support.worker_process import post_items

pytestmark = pytest.mark.integration

TOKEN = "t0k3n-for-the-tests"
ITEM = {"id": "h1", "title": "Report from the border", "published_at": "2026-06-01T10:00:00Z"}


def post(
    settings: Settings, body: bytes, ctype: str = "application/json", token: str | None = TOKEN
) -> tuple[int, dict[str, object]]:
    return post_items(settings.web_port, body, token=token, content_type=ctype)


def test_items_posted_over_http_are_accepted_or_dead_lettered(
    settings: Settings, worker_factory
) -> None:
    settings = settings.model_copy(
        update={"http_token": SecretStr(TOKEN), "http_max_body": 4_000, "http_max_items": 5}
    )
    worker = worker_factory(settings)

    assert post(settings, orjson.dumps(ITEM), token=None)[0] == 401
    assert post(settings, orjson.dumps(ITEM), token="wrong")[0] == 401
    assert post(settings, orjson.dumps(ITEM), ctype="text/plain")[0] == 415
    assert post(settings, b"[" + b" " * 5_000 + b"]")[0] == 413
    assert post(settings, orjson.dumps([ITEM] * 6))[0] == 413

    assert post(settings, orjson.dumps(ITEM)) == (202, {"accepted": ["h1"]})
    bad = {"id": "h3", "title": "No date"}
    status, answer = post(settings, orjson.dumps([{**ITEM, "id": "h2"}, bad]))
    assert status == 400 and answer["accepted"] == ["h2"]
    [rejected] = answer["rejected"]  # type: ignore[misc]
    assert rejected["index"] == 1 and rejected["reason"] == "validation_failed"
    assert rejected["error"].startswith("published_at")
    status, answer = post(settings, b"{broken")
    assert (status, answer["error"]) == (400, "invalid_json")

    metrics = worker.wait_until(
        "the accepted items ingested",
        lambda m: m.get("watchfloor_items_ingested_total") == 2,
    )
    assert metrics['watchfloor_http_items_total{outcome="accepted"}'] == 2
    assert metrics['watchfloor_http_items_total{outcome="rejected"}'] == 2
    assert metrics['watchfloor_http_requests_total{status="401"}'] == 2
    assert metrics['watchfloor_http_requests_total{status="413"}'] == 2
    assert metrics['watchfloor_http_requests_total{status="202"}'] == 1
    assert metrics['watchfloor_http_requests_total{status="400"}'] == 2

    raw = [orjson.loads(v)["id"] for _, v in read_topic(settings, settings.topic_raw)]
    assert sorted(raw) == ["h1", "h2"]
    letters = [json.loads(v) for _, v in read_topic(settings, settings.topic_deadletter)]
    assert {(x["source"], x["reason"]) for x in letters} == {
        ("http", "validation_failed"),
        ("http", "invalid_json"),
    }
    originals = {base64.b64decode(x["original_b64"]) for x in letters}
    assert b"{broken" in originals and orjson.dumps(bad) in originals
    assert TOKEN not in worker.log.read_text(errors="replace")  # no secret in the logs
    assert TOKEN not in str(metrics)


def test_a_large_body_arriving_in_many_packets_is_read_whole(
    settings: Settings, worker_factory
) -> None:
    worker = worker_factory(settings)  # defaults: no token, 1 MiB, 1,000 items
    many = [{**ITEM, "id": f"m{i}", "body": f"report {i} " + "x" * 3_000} for i in range(200)]
    body = orjson.dumps(many)
    assert len(body) > 600_000
    assert post(settings, body, token=None) == (202, {"accepted": [f"m{i}" for i in range(200)]})
    worker.wait_until("all 200", lambda m: m.get("watchfloor_items_ingested_total") == 200)


def raw_request(port: int, head: bytes, body: bytes = b"") -> int:
    """The status of one HTTP/1.1 request written byte for byte (headers no client sends)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head + b"\r\nConnection: close\r\n\r\n" + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_malformed_headers_get_a_4xx_and_never_a_500(settings: Settings, worker_factory) -> None:
    settings = settings.model_copy(update={"http_token": SecretStr(TOKEN)})
    worker = worker_factory(settings)
    body = orjson.dumps(ITEM)
    post_head = (
        b"POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode()
    )
    port = settings.web_port
    # Bytes that are not UTF-8 where the token goes, on the items and the board's API.
    assert raw_request(port, post_head + b"\r\nAuthorization: Bearer \xff\xfe\xfd", body) == 401
    get_alerts = b"GET /v1/alerts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xc3\x28"
    assert raw_request(port, get_alerts) == 401
    # A header far over any sane size, and a header line that is not one.
    assert 400 <= raw_request(port, post_head + b"\r\nX-Padding: " + b"a" * 20_000, body) < 500
    assert 400 <= raw_request(port, post_head + b"\r\nno colon here", body) < 500
    assert (
        raw_request(port, post_head + b"\r\nAuthorization: Bearer " + TOKEN.encode(), body) == 202
    )
    worker.check_alive()
    assert "Traceback" not in worker.log.read_text(errors="replace")
