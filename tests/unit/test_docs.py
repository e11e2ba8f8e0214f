from pathlib import Path

from streams.detect.reference import reference_markdown

DOCS = Path(__file__).parents[2] / "docs"


def test_detection_doc_holds_the_generated_reference() -> None:
    text = (DOCS / "detection.md").read_text()
    begin, end = "<!-- detectors:begin -->\n", "<!-- detectors:end -->"
    embedded = text[text.index(begin) + len(begin) : text.index(end)]
    assert embedded == reference_markdown(plugins=False), "run: watchfloor detectors --write-docs"
