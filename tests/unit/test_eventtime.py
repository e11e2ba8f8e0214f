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
