"""Plotly figures: pure functions from result objects to figures, one module per topic."""
