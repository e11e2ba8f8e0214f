"""The write-behind store reads as a plain dict would and writes each key once a flush."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

from hypothesis import given
from hypothesis import strategies as st

from streams.detect.write_behind import WriteBehind

_keys = st.sampled_from([b"a", b"b", b"c", b"d"])
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), _keys, st.binary(max_size=3)),
        st.tuples(st.just("del"), _keys, st.none()),
        st.tuples(st.just("flush"), st.none(), st.none()),
    ),
    max_size=40,
)


class _Recording(MutableMapping[bytes, bytes]):
    """A backing store that records every write it is given, as a changelog would."""

    def __init__(self, data: dict[bytes, bytes]) -> None:
        self.data = dict(data)
        self.writes: list[tuple[bytes, bytes | None]] = []

    def __getitem__(self, key: bytes) -> bytes:
        return self.data[key]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.writes.append((key, value))
        self.data[key] = value

    def __delitem__(self, key: bytes) -> None:
        self.writes.append((key, None))
        del self.data[key]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


@given(initial=st.dictionaries(_keys, st.binary(max_size=3)), ops=_ops)
def test_it_reads_as_a_dict_and_the_backing_store_catches_up_at_each_flush(
    initial: dict[bytes, bytes], ops: list[tuple[str, bytes | None, bytes | None]]
) -> None:
    model = dict(initial)
    backing = _Recording(initial)
    store = WriteBehind(backing)
    for op, key, value in ops:
        if op == "set":
            assert key is not None and value is not None
            store[key] = value
            model[key] = value
        elif op == "del":
            assert key is not None
            assert store.pop(key, None) == model.pop(key, None)
        else:
            written = len(backing.writes)
            store.flush()
            assert backing.data == model
            # One write at most per key changed since the last flush.
            keys = [k for k, _ in backing.writes[written:]]
            assert len(keys) == len(set(keys))
        assert dict(store.items()) == model
        assert len(store) == len(model)
        for k in (b"a", b"b", b"c", b"d"):
            assert (k in store) == (k in model)
            assert store.get(k) == model.get(k)


def test_nothing_reaches_the_backing_store_before_a_flush() -> None:
    backing = _Recording({b"k": b"0"})
    store = WriteBehind(backing)
    for n in range(100):
        store[b"k"] = str(n).encode()
    del store[b"k"]
    store[b"j"] = b"x"
    assert backing.writes == []
    assert store.pending == 2
    assert store.flush() == 2
    assert sorted(backing.writes, key=str) == sorted([(b"k", None), (b"j", b"x")], key=str)
    assert store.pending == 0
