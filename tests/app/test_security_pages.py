"""Issue 14 on the pages (AppTest through app.py): an absurd metric window is one sentence, not a generic box."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app._apptest import page_test

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
