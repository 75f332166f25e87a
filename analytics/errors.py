"""The one exception type for problems a user can cause and fix."""

from __future__ import annotations


class LiftboardError(Exception):
    """A problem with the user's input, stated as one sentence meant for the user.

    Pages show it with ``st.error``; the CLI prints it to stderr and exits 2. Any
    other exception is a bug.
    """
