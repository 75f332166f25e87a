"""Multiple-testing adjustments: Holm (family-wise error) and Benjamini–Hochberg (false discovery rate)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check_p(p_values: Sequence[float]) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if p.size and (not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1):
        raise ValueError("p-values must be finite numbers between 0 and 1.")
    return p


def _adjusted(p_values: Sequence[float], method: str) -> list[float]:
    # statsmodels' own implementation (imported here: the CLI never pays for it unless a family is adjusted).
    from statsmodels.stats.multitest import multipletests

    p = _check_p(p_values)
    if not p.size:
        return []
    return multipletests(p, method=method)[1].tolist()


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error), in the input order."""
    return _adjusted(p_values, "holm")


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), in the input order."""
    return _adjusted(p_values, "fdr_bh")
