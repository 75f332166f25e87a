"""Issue 14 on the pages (AppTest through app.py): an absurd metric window is one sentence, not a generic box."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apptest import page_test

SENTENCE = "The window '300000000d' is longer than ten years (3650d); write a window of at most 3650d."


def test_an_absurd_window_on_the_experiments_page_is_one_sentence(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFTBOARD_DB", str(demo_copy))
    at = page_test("experiments", timeout=180)
    at.query_params["experiment"] = "ai_recs"
    at.query_params["metrics"] = "conversion:purchase:300000000d"
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [SENTENCE]


def test_md_makes_any_data_value_literal_markdown() -> None:
    from markdown_it import MarkdownIt

    from pages._ui import md

    render = MarkdownIt("commonmark").enable("strikethrough").enable("table")
    for value in [
        "![e](//evil.example/e.png)",
        '<span style="background:url(//evil.example/v.png)">ai</span>',
        "purchase` ![p](//evil.example/p.png) `",
        "[click](javascript:alert(1))",
        "# heading",
        "1. item",
        "- item",
        "> quote",
        "**bold** _em_ ~~gone~~ $x^2$ a|b",
        "back\\slash",
        "line one\nline two",
        "R&D &lt;",
    ]:
        out = render.render(md(value))
        assert "<img" not in out and "<a " not in out and "<code" not in out and "<span" not in out, (
            value,
            out,
        )
        assert "<h1" not in out and "<ol" not in out and "<ul" not in out and "<blockquote" not in out, (
            value,
            out,
        )
        assert "<strong" not in out and "<em" not in out and "<s>" not in out, (value, out)
    # ordinary sentences keep their look: nothing to escape in them
    sentence = "The AI variant raised 7-day purchase conversion from 9.6% to 10.5% (+1.0 pp, p < 0.001)."
    assert md(sentence) == sentence
    assert md("add_to_cart") == "add_to_cart"
