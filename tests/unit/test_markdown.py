from pathlib import Path

import pytest

from streams.models import RawItem
from streams.sources.markdown import ArticleFormatError, parse_article

ARTICLE = """# Border guards report more crossings

*Monday, May 25, 2026 at 09:00 AM UTC — Baltic Desk*

**Published**: 2026-05-25T09:00:12.500Z (2h ago)
**Category**: security | **Region**: Baltics
**Importance**: 8/10
**Sources**: OSINT, State Border Guard
**Permalink**: https://watchfloor.example/articles/17.md
**Source**: https://watchfloor.example/summaries

---

**Deck**: Guards counted an unusual number of
arrivals overnight.

First paragraph of the body.

Second   paragraph,
wrapped.
"""


def test_parses_every_metadata_field() -> None:
    item = RawItem.model_validate(parse_article(ARTICLE, "a.md"))
    assert item.id == "https://watchfloor.example/articles/17.md"
    assert item.title == "Border guards report more crossings"
    assert item.published_at.isoformat() == "2026-05-25T09:00:12.500000+00:00"
    assert (item.category, item.region, item.importance) == ("security", "Baltics", 8)
    assert item.sources == ["OSINT", "State Border Guard"]
    assert item.publisher == "Baltic Desk"
    assert item.deck == "Guards counted an unusual number of arrivals overnight."
    assert item.body == "First paragraph of the body.\n\nSecond paragraph, wrapped."


def test_bundled_articles_parse_and_validate() -> None:
    folder = Path(__file__).parents[2] / "streams" / "data" / "articles"
    files = sorted(folder.glob("*.md"))
    assert len(files) >= 3
    for file in files:
        item = RawItem.model_validate(parse_article(file.read_text(), str(file)))
        assert item.body and item.region and item.importance


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("no title\n---\n", "no '# Title' line"),
        ("# T\n**Published**: 2026-01-01T00:00:00Z\n", "no '---' line"),
        ("# T\n**Region**: X\n---\nbody", "no **Published** field"),
        ("# T\n**Published**: 2026-01-01T00:00:00Z\n**Importance**: high\n---\n", "N/10"),
    ],
)
def test_format_errors_name_the_file_and_the_problem(text: str, reason: str) -> None:
    with pytest.raises(ArticleFormatError) as err:
        parse_article(text, "feeds/x.md")
    assert str(err.value).startswith("feeds/x.md: ")
    assert reason in str(err.value)
