import orjson

from streams.sources.feeds import SEEN_CAP, FeedSource, FeedState, feed_items, feed_label

RSS = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Border Watch</title><language>pl</language>
<item><guid>bw-1</guid><title>Białorusini na granicy</title>
<description>&lt;p&gt;Straż graniczna &amp;amp; wojsko&lt;/p&gt;</description>
<link>https://bw.example/1</link><pubDate>Mon, 01 Jun 2026 10:00:00 GMT</pubDate></item>
<item><title>No guid here</title><link>https://bw.example/2</link></item>
<item><description>No title at all</description><guid>bw-3</guid></item>
</channel></rss>""".encode()

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Baltic Wire</title>
<entry><id>urn:bw:a1</id><title>Atom entry</title><updated>2026-06-02T08:30:00Z</updated>
<link href="https://wire.example/a1"/>
<content type="html">&lt;b&gt;Bold&lt;/b&gt; text</content></entry>
</feed>"""


def items(body: bytes, source: FeedSource, state: FeedState) -> list[dict[str, object]]:
    return [orjson.loads(raw) for _, raw in feed_items(body, source, state, now=1_780_000_000)[0]]


def test_rss_entries_become_raw_items() -> None:
    got = items(RSS, FeedSource(url="https://bw.example/rss", region="Baltics"), FeedState())
    assert [i["id"] for i in got] == [
        "bw.example|bw-1",
        "bw.example|https://bw.example/2",
        "bw.example|bw-3",
    ]
    first = got[0]
    assert first["title"] == "Białorusini na granicy"
    assert first["body"] == "Straż graniczna & wojsko"
    assert first["published_at"] == "2026-06-01T10:00:00Z"
    assert (first["publisher"], first["language"]) == ("Border Watch", "pl")
    assert first["region"] == "Baltics"
    # Entries without a date take the time read; without a title they are still sent, so
    # ingest dead-letters them with the reason instead of this code dropping them.
    assert got[1]["published_at"] == "2026-05-28T20:26:40Z"
    assert got[2]["title"] == ""


def test_atom_entries_and_configured_publisher() -> None:
    [entry] = items(ATOM, FeedSource(url="https://wire.example/atom", name="BW"), FeedState())
    assert (entry["id"], entry["body"], entry["publisher"]) == (
        "wire.example|urn:bw:a1",
        "Bold text",
        "BW",
    )
    assert (
        entry["published_at"] == "2026-06-02T08:30:00Z"
        and entry["url"] == "https://wire.example/a1"
    )


def test_entries_seen_before_are_not_sent_again_even_after_a_restart() -> None:
    source = FeedSource(url="https://bw.example/rss")
    state = FeedState()
    _, ids = feed_items(RSS, source, state, now=1000.0)
    state.remember(ids, 1000.0)
    restored = FeedState.loads(state.dumps())
    assert feed_items(RSS, source, restored, now=2000.0)[0] == []


def test_backoff_doubles_up_to_the_cap_and_success_resets_it() -> None:
    state = FeedState()
    waits = [state.failed(0.0, interval=60, max_backoff=600) for _ in range(5)]
    assert waits == [120, 240, 480, 600, 600]
    for _ in range(2_000):  # a feed dead for months must not overflow the back-off
        state.failed(0.0, interval=60, max_backoff=600)
    assert not state.due(599) and state.due(600)
    state.succeeded(1000.0, interval=60)
    assert (state.failures, state.next_poll) == (0, 1060.0)


def test_seen_entries_stay_bounded_and_entries_still_listed_are_not_forgotten() -> None:
    state = FeedState()
    state.remember([f"e{i}" for i in range(SEEN_CAP + 50)], now=100.0)
    assert len(state.seen) == SEEN_CAP
    state.remember(["new"], now=100.0 + 31 * 86400)
    assert list(state.seen) == ["new"]
    source = FeedSource(url="https://bw.example/rss")
    kept = FeedState()
    for day in range(0, 90, 10):  # an unchanged feed, polled for three months
        new, ids = feed_items(RSS, source, kept, now=day * 86400.0)
        kept.remember(ids, day * 86400.0)
        assert (len(new) == 3) is (day == 0)


def test_labels_never_carry_the_path_or_query() -> None:
    label = feed_label(FeedSource(url="https://news.example/k/s3cret/feed.xml?token=secret"))
    assert label.startswith("news.example#") and "secret" not in label and "s3cret" not in label
    assert feed_label(FeedSource(url="https://news.example/x", name="News")) == "News"
