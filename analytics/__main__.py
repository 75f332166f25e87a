"""`python -m analytics COMMAND`: the command line (analytics.cli) run as a program."""

from __future__ import annotations

import os
import sys

from analytics.cli import main

try:
    sys.exit(main())
except BrokenPipeError:
    # The reader of our output went away (`... | head`): stop quietly, no traceback. Point stdout at devnull
    # so that the interpreter's final flush does not raise again (the Python docs' SIGPIPE recipe).
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(1)
