from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from streams.fingerprint import fingerprint, similarity
from streams.signals.text import tokens
from streams.sources.samplefeed import signal_reports

REPORTS = signal_reports(
    3,
    "belarus-men-crossing-eu",
    "Eastern Europe",
    [datetime(2026, 6, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(30)],
)


def fp(item: dict[str, object], body: str | None = None) -> str:
    value = fingerprint(str(item["title"]), str(item["body"]) if body is None else body)
    assert value is not None
    return value


def test_copies_of_a_report_are_similar_across_edits() -> None:
    for item in REPORTS[:10]:
        body = str(item["body"])
        words = body.split()
        one_word = " ".join([*words[: len(words) // 2], "however", *words[len(words) // 2 + 1 :]])
        base = fp(item)
        assert similarity(base, fp(item)) == 1.0
        assert similarity(base, fp({"title": "A new headline entirely", "body": body})) == 1.0
        assert similarity(base, fp(item, "VILNIUS (Wire) - " + body)) >= 0.6
        assert similarity(base, fp(item, body + " Reporting by the wire desk.")) >= 0.6
        assert similarity(base, fp(item, one_word)) >= 0.6


def test_distinct_reports_of_one_signal_are_not() -> None:
    prints = [fp(item) for item in REPORTS]
    worst = max(similarity(a, b) for i, a in enumerate(prints) for b in prints[i + 1 :])
    assert worst < 0.6


@given(st.text(max_size=200), st.text(max_size=400))
def test_any_text_gives_a_fingerprint_of_the_schema_shape(title: str, body: str) -> None:
    value = fingerprint(title, body)
    if value is None:
        assert not tokens(title + " " + body)
        return
    assert len(value) == 128 and int(value, 16) >= 0
    assert similarity(value, value) == 1.0


def _similarity_byte_by_byte(a: str, b: str) -> float:
    x, y = bytes.fromhex(a), bytes.fromhex(b)
    equal = sum(p == q for p, q in zip(x, y, strict=True)) / len(x)
    return max(0.0, (equal - 1 / 256) / (1 - 1 / 256))


@given(st.binary(min_size=64, max_size=64), st.binary(min_size=64, max_size=64), st.data())
def test_similarity_counts_the_equal_bytes(a: bytes, b: bytes, data: st.DataObject) -> None:
    # Fingerprints that share some bytes, as copies do, not only unrelated ones.
    shared = data.draw(st.sets(st.integers(0, 63)))
    b = bytes(a[i] if i in shared else b[i] for i in range(64))
    assert similarity(a.hex(), b.hex()) == _similarity_byte_by_byte(a.hex(), b.hex())
