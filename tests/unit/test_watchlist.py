from pathlib import Path

import pytest

from streams.signals.watchlist import WatchlistError, load_watchlist

DESIGN_SIGNALS = {
    "belarus-men-crossing-eu",
    "union-state-conscription-harmonization",
    "union-state-joint-units",
    "belarus-service-law-change",
    "belarusians-in-russian-formations",
}


def test_bundled_watchlist_has_the_five_design_signals() -> None:
    wl = load_watchlist()
    assert {s.id for s in wl.signals} == DESIGN_SIGNALS
    assert wl.version.startswith("2026.11.3+")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wl.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nsignals: [", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("version: '1'\nsignals: []\n", "signals: List should have at least 1 item"),
        (
            "version: '1'\nsignals:\n  - id: Bad Id\n    all_of: [{name: g, terms: [x]}]\n",
            "signal 'Bad Id': signals[0].id: String should match pattern",
        ),
        (
            "version: '1'\nsignals:\n  - id: a\n    all_of: [{name: g, terms: []}]\n",
            "signal 'a': signals[0].all_of[0].terms: Value error, a term group needs at least",
        ),
        (
            "version: '1'\nsignals:\n  - id: a\n    all_of: [{name: g, terms: ['ab*c']}]\n",
            "'*' may only end a word",
        ),
        (
            "version: '1'\nsignals:\n"
            "  - id: a\n    all_of: [{name: g, terms: [x]}]\n    colour: red\n",
            "signal 'a': signals[0].colour: Extra inputs are not permitted",
        ),
        (
            "version: '1'\nsignals:\n"
            "  - {id: a, all_of: [{name: g, terms: [x]}]}\n"
            "  - {id: a, all_of: [{name: g, terms: [y]}]}\n",
            "signal id 'a' appears twice",
        ),
    ],
)
def test_errors_name_file_signal_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(WatchlistError) as err:
        load_watchlist(path)
    assert str(err.value).startswith(f"{path}: ")
    assert expected in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WatchlistError, match="cannot read"):
        load_watchlist(tmp_path / "nope.yaml")


def test_version_changes_with_content(tmp_path: Path) -> None:
    base = "version: '1'\nsignals:\n  - {id: a, all_of: [{name: g, terms: [%s]}]}\n"
    one = load_watchlist(write(tmp_path, base % "x")).version
    two = load_watchlist(write(tmp_path, base % "y")).version
    assert one.startswith("1+") and two.startswith("1+") and one != two
