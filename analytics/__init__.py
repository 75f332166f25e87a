"""Liftboard's engine: workspace, ingest, metrics, statistics, cost, drift, feedback and reports."""

from __future__ import annotations

__version__ = "0.1.0"
