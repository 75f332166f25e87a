"""The one exception type for problems a user can cause and fix."""

from __future__ import annotations


class LiftboardError(Exception):
    """A problem with the user's input, stated as one sentence meant for the user.

    Pages show it with ``st.error``; the CLI prints it to stderr and exits 2. Any
    other exception is a bug.
    """


class CommandFailed(LiftboardError):
    """A command that ran but whose result is a failure (e.g. a dry run of a file that cannot load).

    The CLI prints ``doc`` (its JSON document, or its text was already printed) and exits 2.
    """

    def __init__(self, message: str, doc: dict) -> None:
        super().__init__(message)
        self.doc = doc
