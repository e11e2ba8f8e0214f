"""A raw partition's event time, robust to one outlet's wrong clock."""

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.sources.eventtime import EventTime

H = 3600.0
N = float("-inf")
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
    assert list(clock._publishers) == ["alive"]


def test_publishers_remembered_are_bounded() -> None:
    clock = EventTime(outlets=2, recent=100)
    for n in range(1_000):
        clock.observe(f"outlet-{n}", float(n))
    assert len(clock._publishers) == 100
    assert clock.mark == 998.0


@given(items, st.integers(1, 10), st.integers(1, 3))
def test_memory_is_bounded_by_the_recent_items(feed: list, recent: int, outlets: int) -> None:
    clock = EventTime(outlets=outlets, recent=recent)
    for publisher, at in feed:
        clock.observe(publisher, at)
        assert len(clock._publishers) <= recent
        assert len(clock._seen) == recent and len(clock._top) <= outlets


class _ReferenceEventTime:
    """The straightforward implementation ``EventTime`` replaced, kept to check the faster
    one gives the same marks: a sort and a scan per item, no fast paths."""

    def __init__(self, outlets: int = 2, recent: int = 50, idle_lag: float = 6 * H) -> None:
        self.outlets = outlets
        self.recent = recent
        self.idle_lag = idle_lag
        self._latest: dict[str, float] = {}
        self._heard: dict[str, float] = {}
        self._highest = float("-inf")
        self._progress = 0.0
        self._seen: deque[str] = deque()
        self._count: dict[str, int] = {}
        self._top: list[tuple[float, str]] = []
        self.mark = float("-inf")

    def observe(self, publisher: str | None, published: float) -> float:
        name = publisher or ""
        if published > self._highest:
            if self._highest > float("-inf"):
                self._progress += min(published - self._highest, self.idle_lag / 2)
            self._highest = published
        self._heard[name] = self._progress
        self._seen.append(name)
        self._count[name] = self._count.get(name, 0) + 1
        if published > self._latest.get(name, float("-inf")):
            self._latest[name] = published
            self._rank(name, published)
        if len(self._seen) > self.recent:
            gone = self._seen.popleft()
            self._count[gone] -= 1
            if not self._count[gone]:
                del self._count[gone]
                self._drop(gone)
        top = self._top
        while len(top) > 1:
            _, last = top[min(self.outlets, len(top)) - 1]
            if self._progress - self._heard[last] <= self.idle_lag:
                break
            self._drop(last)
            top = self._top
        self.mark = max(self.mark, top[min(self.outlets, len(top)) - 1][0])
        return self.mark

    def _rank(self, name: str, published: float) -> None:
        top = self._top
        at = next((i for i, (_, who) in enumerate(top) if who == name), None)
        if at is not None:
            top[at] = (published, name)
        elif len(top) < self.outlets:
            top.append((published, name))
        elif published > top[-1][0]:
            top[-1] = (published, name)
        top.sort(reverse=True)

    def _drop(self, name: str) -> None:
        self._heard.pop(name, None)
        if self._latest.pop(name, None) is None:
            return
        if any(who == name for _, who in self._top):
            ranked = sorted(((at, who) for who, at in self._latest.items()), reverse=True)
            self._top = ranked[: self.outlets]


# Whole seconds make ties between publishers' marks common, and the second kind of stream
# makes them the rule: ties are where the order of the kept marks (by time, then name)
# decides which outlet is checked for silence and which is promoted.
_publishers = st.sampled_from(["a", "b", "c", "d", "e", "f", "", None])
_steps = st.sampled_from([0.0, 0.0, 1.0, 1.0, 2.0, 3.0, 5.0, 60.0, 600.0, 4 * H, 30 * H, -1.0, -H])
_offsets = st.sampled_from([0.0, 0.0, 0.0, 1.0, -1.0, -120.0, -2 * H, 3 * H, 9 * H, -1e5])
_streams = st.one_of(
    st.lists(st.tuples(_publishers, _steps, _offsets), max_size=200),
    st.lists(
        st.tuples(
            _publishers,
            st.sampled_from([0.0, 0.0, 0.0, 1.0, -1.0]),
            st.sampled_from([0.0, 0.0, 1.0, -1.0, 2.0]),
        ),
        max_size=200,
    ),
)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(
    _streams,
    st.integers(1, 4),
    st.integers(1, 12),
    st.sampled_from([1.0, 3.0, 7.0, 100.0, 3 * H, 6 * H, 1e12]),
    st.sampled_from([0.0, 1.7e9]),
)
def test_same_marks_as_the_reference(
    feed: list[tuple[str | None, float, float]],
    outlets: int,
    recent: int,
    idle_lag: float,
    start: float,
) -> None:
    clock = EventTime(outlets, recent, idle_lag)
    reference = _ReferenceEventTime(outlets, recent, idle_lag)
    now = start
    for publisher, step, offset in feed:
        now += step
        published = now + offset
        assert clock.observe(publisher, published) == reference.observe(publisher, published)
        assert clock.mark == reference.mark
        counting = {who: own.latest for who, own in clock._publishers.items() if own.latest > N}
        assert counting == reference._latest
        assert sorted(at[:2] for at in clock._top) == sorted(reference._top)
