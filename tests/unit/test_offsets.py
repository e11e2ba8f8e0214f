"""Offset commits: never past an unprocessed record; a stuck one re-read, then skipped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from intervaltree import IntervalTree

from streams.pipeline.offsets import GapWatch, next_commit


def commit(acked: list[int], committed: int | None, gaps: IntervalTree | None = None) -> int | None:
    return next_commit(
        list(acked), set(acked), gaps if gaps is not None else IntervalTree(), committed
    )


def test_commits_the_run_of_consecutive_offsets_after_the_committed_one() -> None:
    assert commit([10, 11, 12], committed=10) == 13
    assert commit([12, 10, 11, 15], committed=10) == 13
    assert commit([0, 1], committed=None) == 2


def test_a_single_missing_offset_at_the_head_holds_the_commit() -> None:
    # Faust 0.15 commits 13 here, past offset 10, which then is never read again.
    assert commit([11, 12], committed=10) is None
    assert commit([12, 13], committed=10) is None


def test_offsets_the_fetcher_saw_missing_from_the_log_do_not_hold_it() -> None:
    assert commit([11, 12], committed=10, gaps=IntervalTree.from_tuples([(10, 11)])) == 13
    # A hole in the middle joins the two runs.
    gaps = IntervalTree.from_tuples([(13, 15)])
    assert commit([10, 11, 12, 15], committed=10, gaps=gaps) == 16


def test_what_is_committed_is_consumed_and_the_rest_kept() -> None:
    acked, index = [10, 11, 14], {10, 11, 14}
    assert next_commit(acked, index, IntervalTree(), 10) == 12
    assert acked == [14] and index == {14}


@given(st.sets(st.integers(0, 60), max_size=40), st.integers(0, 30))
def test_never_commits_past_an_offset_neither_processed_nor_a_hole(
    acked: set[int], committed: int
) -> None:
    acked = {o for o in acked if o >= committed}
    result = commit(sorted(acked), committed)
    if result is not None:
        assert set(range(committed, result)) <= acked


def test_a_gap_that_does_not_move_is_reread_and_then_skipped() -> None:
    watch = GapWatch(after=30)
    assert watch.stuck([("p0", 10, 12)], now=0) == []
    assert watch.stuck([("p0", 10, 12)], now=20) == []
    assert watch.stuck([("p0", 10, 12)], now=31) == [("p0", "reread")]
    assert watch.stuck([("p0", 10, 12)], now=40) == []
    # Still there after the re-read: no record at offset 10 or 11.
    assert watch.stuck([("p0", 10, 12)], now=62) == [("p0", "skip")]


def test_a_gap_that_moves_or_closes_starts_over() -> None:
    watch = GapWatch(after=30)
    watch.stuck([("p0", 10, 12)], now=0)
    assert watch.stuck([("p0", 12, 14)], now=31) == []  # commits moved on: a new gap
    assert watch.stuck([("p0", 14, 14)], now=70) == []  # contiguous: no gap
    assert watch.stuck([("p0", 14, 16)], now=71) == []
    assert watch.stuck([("p0", 14, 16), ("p1", None, 3)], now=102) == [("p0", "reread")]
