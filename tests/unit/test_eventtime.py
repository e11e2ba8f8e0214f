"""A raw partition's event time, robust to one outlet's wrong clock."""

from hypothesis import given
from hypothesis import strategies as st

from streams.sources.eventtime import EventTime

H = 3600.0
items = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d", None]), st.floats(0, 1e6)), max_size=60
)


def test_one_outlet_three_hours_ahead_does_not_move_event_time() -> None:
    clock = EventTime()
    for minute in range(0, 120, 10):
        clock.observe("honest-1", minute * 60)
        clock.observe("honest-2", minute * 60 + 30)
        clock.observe("wrong-clock", minute * 60 + 3 * H)
    assert clock.mark == 110 * 60 + 30  # the second outlet's time, not the third's


def test_until_enough_outlets_are_seen_it_is_the_lowest_seen() -> None:
    clock = EventTime(outlets=2)
    assert clock.observe("only", 100.0) == 100.0
    assert clock.observe("only", 500.0) == 500.0
    assert clock.observe(None, 200.0) == 500.0  # never moves back


@given(items)
def test_never_moves_back_and_never_passes_the_plain_maximum(feed: list) -> None:
    clock, top, last = EventTime(), float("-inf"), float("-inf")
    for publisher, at in feed:
        mark = clock.observe(publisher, at)
        top = max(top, at)
        assert last <= mark <= top
        last = mark


@given(items)
def test_with_one_outlet_it_is_the_plain_maximum(feed: list) -> None:
    clock, top = EventTime(outlets=1), float("-inf")
    for publisher, at in feed:
        top = max(top, at)
        assert clock.observe(publisher, at) == top


@given(items)
def test_it_is_the_second_highest_publisher_mark(feed: list) -> None:
    clock, latest, last = EventTime(outlets=2, recent=1_000, idle_lag=1e12), {}, float("-inf")
    for publisher, at in feed:
        latest[publisher or ""] = max(latest.get(publisher or "", at), at)
        marks = sorted(latest.values(), reverse=True)
        last = max(last, marks[1] if len(marks) > 1 else marks[0])
        assert clock.observe(publisher, at) == last


def test_an_outlet_far_behind_the_leader_stops_counting() -> None:
    clock = EventTime(outlets=2, recent=1_000, idle_lag=6 * H)
    clock.observe("dead", 0.0)
    for hour in range(1, 10):
        clock.observe("alive", hour * H)
    assert clock.mark == 9 * H


@given(st.floats(60.0, 86400.0), st.integers(1, 4))
def test_one_clock_up_to_a_day_ahead_does_not_move_event_time(ahead: float, honest: int) -> None:
    clock = EventTime()
    for minute in range(0, 24 * 60, 10):
        for n in range(honest):
            clock.observe(f"honest-{n}", minute * 60.0 + n)
        clock.observe("wrong-clock", minute * 60.0 + ahead)
    assert clock.mark == (24 * 60 - 10) * 60.0 + honest - 1  # the most advanced honest one's


def test_an_outlet_behind_counts_while_it_publishes() -> None:
    clock = EventTime(outlets=2, recent=1_000)
    for hour in range(10):
        clock.observe("slow", hour * 60.0)
        clock.observe("alive", hour * H)
    assert clock.mark == 9 * 60.0  # of two clocks, which one is wrong cannot be told


def test_a_clock_jumping_ahead_mid_stream_does_not_retire_the_others() -> None:
    clock = EventTime()
    for minute in range(0, 600, 10):
        jump = 8 * H if minute >= 300 else 0.0
        clock.observe("a", minute * 60.0)
        clock.observe("b", minute * 60.0 + 5)
        clock.observe("wrong-from-5-h", minute * 60.0 + jump)
    assert clock.mark == 590 * 60.0 + 5


def test_a_publisher_that_stops_stops_holding_event_time_back() -> None:
    clock = EventTime(outlets=2, recent=10)
    for hour in range(5):
        clock.observe("alive", hour * H)
        clock.observe("dies", hour * H)
    for hour in range(5, 30):
        clock.observe("alive", hour * H)
    assert clock.mark == 29 * H  # "dies" is no longer among the last ten items
    assert len(clock._latest) == 1


def test_publishers_remembered_are_bounded() -> None:
    clock = EventTime(outlets=2, recent=100)
    for n in range(1_000):
        clock.observe(f"outlet-{n}", float(n))
    assert len(clock._latest) == 100
    assert clock.mark == 998.0


@given(items, st.integers(1, 10), st.integers(1, 3))
def test_memory_is_bounded_by_the_recent_items(feed: list, recent: int, outlets: int) -> None:
    clock = EventTime(outlets=outlets, recent=recent)
    for publisher, at in feed:
        clock.observe(publisher, at)
        assert len(clock._latest) <= recent and len(clock._heard) <= recent
        assert len(clock._seen) <= recent and len(clock._top) <= outlets
