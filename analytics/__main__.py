"""`python -m analytics COMMAND`: the command line (analytics.cli) run as a program."""

from __future__ import annotations

import sys

from analytics.cli import main

sys.exit(main())
