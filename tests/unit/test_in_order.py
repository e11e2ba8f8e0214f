"""Detection's input in log order: records a faulty hand-over drops or repeats are read again
in their place, holes in the log are not waited for."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from intervaltree import IntervalTree

from streams.pipeline.in_order import InOrder, Verdict, covered


def test_covered_needs_every_offset_of_the_range_in_a_hole() -> None:
    holes = IntervalTree.from_tuples([(3, 5), (5, 6), (8, 9)])
    assert covered(holes, 3, 6)
    assert covered(holes, 4, 5)
    assert not covered(holes, 2, 6)
    assert not covered(holes, 3, 9)
    assert covered(holes, 7, 7)


def test_the_expected_offset_is_taken_an_earlier_one_passed_over_a_later_one_held() -> None:
    order = InOrder()
    order.start("p0", 10)
    assert order.check("p0", 10) is Verdict.TAKE
    assert order.check("p0", 10) is Verdict.SEEN
    assert order.check("p0", 12) is Verdict.AHEAD
    assert order.expected("p0") == 11
    # Offset 11 is a transaction marker the fetcher saw: 12 comes next.
    assert order.check("p0", 12, IntervalTree.from_tuples([(11, 12)])) is Verdict.TAKE
    assert order.expected("p0") == 13


def test_a_seek_back_is_made_once_then_again_only_if_the_record_stays_missing() -> None:
    order = InOrder(retry_after=1.0)
    order.start("p0", 5)
    assert order.check("p0", 7) is Verdict.AHEAD
    assert order.seek_due("p0", now=0.0) == 5
    assert order.check("p0", 8) is Verdict.AHEAD  # fetched before the seek
    assert order.seek_due("p0", now=0.5) is None
    assert order.seek_due("p0", now=1.2) == 5
    assert order.check("p0", 5) is Verdict.TAKE


def test_forgotten_partitions_start_again_where_they_are_told() -> None:
    order = InOrder()
    order.start("p0", 3)
    order.start("p1", 7)
    order.forget()
    assert not order.knows("p0") and not order.knows("p1")
    order.start("p0", 1)
    assert order.check("p0", 1) is Verdict.TAKE


@st.composite
def faulty_runs(draw: st.DrawFn) -> tuple[list[int], set[int], list[tuple[str, int]]]:
    """A log (its record offsets, its holes) and the faults of a hand-over reading it."""
    size = draw(st.integers(1, 60))
    holes = draw(st.sets(st.integers(1, size - 1), max_size=size // 4)) if size > 1 else set()
    records = [o for o in range(size) if o not in holes]
    faults = draw(
        st.lists(
            st.tuples(st.sampled_from(["deliver", "drop", "replay", "wait"]), st.integers(0, 60)),
            max_size=120,
        )
    )
    return records, holes, faults


@given(faulty_runs())
def test_whatever_the_hand_over_drops_or_repeats_every_record_is_taken_once_in_order(
    run: tuple[list[int], set[int], list[tuple[str, int]]],
) -> None:
    records, holes, faults = run
    gaps = IntervalTree.from_tuples([(h, h + 1) for h in holes])
    order = InOrder(retry_after=1.0)
    order.start("p", 0)
    taken: list[int] = []
    position, now = 0, 0.0  # the next offset the consumer fetches; the clock

    def deliver(offset: int) -> None:
        nonlocal position
        verdict = order.check("p", offset, gaps)
        if verdict is Verdict.TAKE:
            taken.append(offset)
        elif verdict is Verdict.AHEAD:
            sought = order.seek_due("p", now)
            if sought is not None:
                position = sought

    def next_record(offset: int) -> int | None:
        return next((o for o in records if o >= offset), None)

    for fault, arg in faults:
        now += 0.3
        here = next_record(position)
        if fault == "wait" or here is None:
            continue
        position = here + 1
        if fault == "deliver":
            deliver(here)
        elif fault == "replay":  # a re-read from an earlier point, as after a stuck commit
            position = min(arg, here)
        # "drop": fetched, and lost on the way to the agent
    # Then the hand-over works: whatever is still missing comes, sought back as needed.
    for _ in range(4 * len(records) + 4):
        now += 0.3
        here = next_record(position)
        if here is None:
            # Caught up; records behind a lost one are only read again once one is seen
            # ahead of it, so a lost last record waits for the next one to arrive.
            if taken == records or not records or order.expected("p") > records[-1]:
                break
            position = order.expected("p")  # a later record's arrival makes the same seek
            continue
        position = here + 1
        deliver(here)
    assert taken == sorted(set(taken))
    assert taken == records[: len(taken)]
    assert taken == records
