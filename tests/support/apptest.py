"""AppTest of one page, opened the way a visitor reaches it: through app.py's gate, sidebar and navigation."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"


def page_test(name: str, *, timeout: float = 120) -> AppTest:
    """An AppTest of app.py switched to pages/<name>.py (not yet run)."""
    return AppTest.from_file(str(APP), default_timeout=timeout).switch_page(f"pages/{name}.py")
