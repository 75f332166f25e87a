"""Drift: the predictions log cut into chunks and compared, feature by feature, with a reference window."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from analytics.drift import stats as ds
from analytics.drift.model import (
    REFERENCE_DAYS,
    Alert,
    ChunkDrift,
    DriftReport,
    DriftSettings,
    FeatureDrift,
    method_name,
    validate,
)
from analytics.drift.sql import classify_columns, fetch_counts, fetch_reference_stats, log_range
from analytics.errors import LiftboardError
from analytics.workspace import Workspace

MAX_CHUNKS = 500

# -- the computation -----------------------------------------------------------------------------------


def compute_drift(ws: Workspace, settings: DriftSettings | None = None) -> DriftReport:
    """Compare every feature of the predictions log, chunk by chunk, with the reference window.

    The heavy work is a handful of aggregate queries (reference moments and quantiles; per-chunk histograms
    of continuous features in one scan; per-value counts of discrete ones; category counts); everything here
    runs on the small per-chunk, per-bin counts they return. Never a row of the log reaches Python.
    """
    settings = settings or DriftSettings()
    validate(settings)
    lo, hi, total = log_range(ws)
    if settings.reference is None:
        start = datetime.combine(lo.date(), datetime.min.time())
        reference = (start, start + timedelta(days=REFERENCE_DAYS))
    else:
        reference = settings.reference
    _check_chunk_count(settings.chunk, lo, hi, total)
    plan = classify_columns(ws, settings.features, reference)
    psi_probs = [k / settings.bins for k in range(1, settings.bins)]
    fine_probs = list(ds.FINE_PROBS)
    ref = fetch_reference_stats(ws, plan, reference, psi_probs + fine_probs)
    if ref.n == 0:
        raise LiftboardError(
            f"The reference window {reference[0]:%Y-%m-%d %H:%M} .. {reference[1]:%Y-%m-%d %H:%M} holds no "
            f"predictions; the log runs from {lo:%Y-%m-%d} to {hi:%Y-%m-%d}, so choose dates inside it."
        )
    edges = {}
    for name in plan.numeric:
        st = ref.numeric[name]
        if st.count:
            edges[name] = _edges(st.quantiles[: len(psi_probs)], st.quantiles[len(psi_probs) :], st.lo, st.hi)
    counts = fetch_counts(ws, plan, reference, settings.chunk, {k: v[1] for k, v in edges.items()})
    chunks = counts.chunks
    if len(chunks) < 2:
        raise LiftboardError(
            f"The log ({lo:%Y-%m-%d} .. {hi:%Y-%m-%d}) makes only one {_chunk_word(settings.chunk)} chunk; "
            "drift needs at least two, so choose smaller chunks (e.g. day or fewer rows)."
        )
    if not any(c.period == "analysis" for c in chunks):
        raise LiftboardError(
            "Every prediction falls inside the reference window, so there is nothing to compare; "
            "choose a shorter reference range."
        )
    notes: list[str] = []
    features: list[FeatureDrift] = []
    for name in plan.numeric:
        features.append(_numeric_feature(name, settings, ref.numeric[name], edges.get(name), counts, chunks))
    for name in plan.categorical:
        features.append(_categorical_feature(name, "categorical", settings, counts, chunks, missing=True))
    if counts.outcome_name:
        features.append(
            _categorical_feature(counts.outcome_name, "outcome", settings, counts, chunks, missing=False)
        )
    if not features:
        raise LiftboardError(
            "The predictions table has no numeric or categorical column to compare "
            f"(skipped: {', '.join(n for n, _ in plan.skipped) or 'none'})."
        )
    if counts.outcome_name is None:
        notes.append("No feedback joined on prediction_id, so no outcome rate is tracked.")
    return DriftReport(
        settings=settings,
        reference_start=reference[0],
        reference_end=reference[1],
        reference_n=ref.n,
        chunks=tuple(chunks),
        features=tuple(features),
        skipped=tuple(plan.skipped),
        alerts=tuple(_alerts(features, settings)),
        notes=tuple(notes),
    )


def _check_chunk_count(chunk: str | int, lo: datetime, hi: datetime, total: int) -> None:
    """Refuse settings that would cut the log into more chunks than a chart or a person can read."""
    if isinstance(chunk, int):
        count = -(-total // chunk)
    else:
        count = (hi - lo).days // (7 if chunk == "week" else 1) + 1
    if count > MAX_CHUNKS:
        raise LiftboardError(
            f"{_chunk_word(chunk).capitalize()} chunks would cut the log into {count:,} chunks; choose larger "
            f"chunks so that there are at most {MAX_CHUNKS} (e.g. week, or {-(-total // MAX_CHUNKS):,} rows)."
        )


def _chunk_word(chunk: str | int) -> str:
    return chunk if isinstance(chunk, str) else f"{chunk}-row"


def _edges(psi_q: list[float], fine_q: list[float], lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """PSI boundaries and the finer shared grid (which contains them), for histogram(x, boundaries).

    Bins are (-inf, below] (values under the reference minimum), [min, q1], (q1, q2], …, (q_last, max],
    and (max, inf) (values over the reference maximum): open end bins for values the reference never saw.
    """
    below = float(np.nextafter(lo, -np.inf))
    inner = sorted({float(q) for q in psi_q if q is not None and q < hi})
    psi_edges = np.array([below, *inner, float(hi)])
    fine = {float(q) for q in fine_q if q is not None and lo <= q < hi}
    fine_edges = np.array(sorted(set(psi_edges.tolist()) | fine))
    return psi_edges, fine_edges


def _fine_to_psi(psi_edges: np.ndarray, fine_edges: np.ndarray, fine_counts: np.ndarray) -> np.ndarray:
    """Sum fine-bin counts into PSI bins (every PSI boundary is a fine boundary)."""
    index = np.append(np.searchsorted(psi_edges, fine_edges, side="left"), len(psi_edges))
    return np.bincount(index, weights=fine_counts, minlength=len(psi_edges) + 1)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _numeric_feature(name, settings, st, edge_pair, counts, chunks) -> FeatureDrift:
    notes: list[str] = []
    missing = counts.missing[name]
    ref_missing = 1 - st.count / st.n if st.n else 0.0
    if edge_pair is None:
        notes.append("All values are null in the reference window, so only the missing rate is compared.")
        labels: tuple[str, ...] = ()
        ref_psi = np.zeros(0)
    else:
        psi_edges, fine_edges = edge_pair
        real_bins = len(psi_edges) - 1
        if st.lo == st.hi:
            notes.append(f"Constant in the reference (always {_fmt(st.lo)}): any other value is drift.")
        elif real_bins < settings.bins:
            notes.append(
                f"{settings.bins} bins requested, {real_bins} used: repeated values made quantile edges "
                "coincide, and coinciding edges were merged."
            )
        labels = (
            f"< {_fmt(st.lo)}",
            *(
                f"({_fmt(a)}, {_fmt(b)}]" if i else f"[{_fmt(st.lo)}, {_fmt(b)}]"
                for i, (a, b) in enumerate(zip(psi_edges[:-1], psi_edges[1:], strict=True))
            ),
            f"> {_fmt(st.hi)}",
        )
        ref_fine = counts.ref_hist(name, len(fine_edges) + 1)
        ref_psi = _fine_to_psi(psi_edges, fine_edges, ref_fine)
    if st.std is None or st.std <= 0:
        notes.append("The reference standard deviation is 0, so the Wasserstein distance is not normalised.")
    rows = []
    for ch in chunks:
        nonnull, n_all = missing.get(ch.key, (0, 0))
        mr = 1 - nonnull / n_all if n_all else 0.0
        if edge_pair is None or nonnull == 0:
            cur_psi = np.zeros(len(ref_psi), dtype=int)
            psi_v, ks, ks_p, w = 0.0, 0.0, 1.0, 0.0
        else:
            cur_fine = counts.chunk_hist(name, ch.key, len(fine_edges) + 1)
            cur_psi = _fine_to_psi(psi_edges, fine_edges, cur_fine)
            psi_v = ds.psi(ref_psi, cur_psi)
            ks, ks_p = ds.ks_binned(ref_fine, cur_fine)
            cur_range = counts.ranges[name][ch.key]
            w = ds.wasserstein_binned(fine_edges, ref_fine, cur_fine, (st.lo, st.hi), cur_range)
            if st.std and st.std > 0:
                w /= st.std
        score = psi_v if settings.method == "psi" else w
        rows.append(
            dict(
                key=ch.key,
                start=ch.start,
                end=ch.end,
                period=ch.period,
                n=int(nonnull),
                missing_rate=mr,
                psi=psi_v,
                ks=ks,
                ks_p=ks_p,
                wasserstein=w,
                js=None,
                chi2_p=None,
                score=score,
                p_value=ks_p,
                counts=tuple(int(x) for x in cur_psi),
                n_all=n_all,
            )
        )
    edges = tuple(float(x) for x in edge_pair[0]) if edge_pair is not None else ()
    return _finish(name, "numeric", settings, labels, ref_psi, st.count, ref_missing, rows, notes, edges)


def _categorical_feature(name, kind, settings, counts, chunks, *, missing: bool) -> FeatureDrift:
    notes: list[str] = []
    ref_by_cat, by_chunk = counts.categories[name]
    labels, fold = _category_bins(ref_by_cat, by_chunk, notes)

    def vector(by_cat: dict[str, int]) -> np.ndarray:
        v = np.zeros(len(labels))
        for cat, n in by_cat.items():
            v[labels.index(fold(cat))] += n
        return v

    ref_vec = vector(ref_by_cat)
    ref_n = int(ref_vec.sum())
    if ref_n == 0:
        notes.append("All values are null in the reference window, so only the missing rate is compared.")
    if len([c for c, n in ref_by_cat.items() if n]) == 1:
        only = next(c for c, n in ref_by_cat.items() if n)
        notes.append(f"Constant in the reference (always {only!r}): any other value is drift.")
    miss = counts.missing.get(name, {})
    ref_nonnull, ref_all = miss.get("__reference__", (ref_n, ref_n))
    ref_missing = 1 - ref_nonnull / ref_all if ref_all else 0.0
    rows = []
    for ch in chunks:
        cur = vector(by_chunk.get(ch.key, {}))
        nonnull, n_all = miss.get(ch.key, (int(cur.sum()), int(cur.sum())))
        mr = 1 - nonnull / n_all if n_all else 0.0
        if ref_n == 0 or cur.sum() == 0:
            psi_v, js, p = 0.0, 0.0, 1.0
        else:
            psi_v, js, p = ds.psi(ref_vec, cur), ds.js_distance(ref_vec, cur), ds.chi2_p(ref_vec, cur)
        rows.append(
            dict(
                key=ch.key,
                start=ch.start,
                end=ch.end,
                period=ch.period,
                n=int(cur.sum()),
                missing_rate=mr if missing else 0.0,
                psi=psi_v,
                ks=None,
                ks_p=None,
                wasserstein=None,
                js=js,
                chi2_p=p,
                score=psi_v if settings.method == "psi" else js,
                p_value=p,
                counts=tuple(int(x) for x in cur),
                n_all=n_all if missing else 0,
            )
        )
    return _finish(
        name, kind, settings, tuple(labels), ref_vec, ref_n, ref_missing if missing else 0.0, rows, notes
    )


TOP_CATEGORIES = 30
MAX_NEW_CATEGORIES = 20


def _category_bins(ref_by_cat: dict[str, int], by_chunk: dict[str, dict[str, int]], notes: list[str]):
    """Reference categories (the top 30; rarer ones fold into "(other)"), then each new category in its own bin."""
    ranked = sorted((c for c, n in ref_by_cat.items() if n > 0), key=lambda c: (-ref_by_cat[c], c))
    keep = ranked[:TOP_CATEGORIES]
    seen: dict[str, int] = {}
    for by_cat in by_chunk.values():
        for cat, n in by_cat.items():
            if cat not in ref_by_cat or ref_by_cat[cat] == 0:
                seen[cat] = seen.get(cat, 0) + n
    new = sorted(seen, key=lambda c: (-seen[c], c))
    new_keep = new[:MAX_NEW_CATEGORIES]
    labels = list(keep)
    if len(ranked) > len(keep):
        labels.append("(other)")
        notes.append(f"{len(ranked) - len(keep)} rare reference categories folded into (other).")
    labels += new_keep
    if len(new) > len(new_keep):
        labels.append("(other new)")
    if new:
        notes.append(
            f"Categories not in the reference: {', '.join(map(str, new[:5]))}{' …' if len(new) > 5 else ''}."
        )
    keep_set, new_set = set(keep), set(new_keep)

    def fold(cat: str) -> str:
        if cat in keep_set or cat in new_set:
            return cat
        return "(other)" if ref_by_cat.get(cat, 0) > 0 else "(other new)"

    return labels, fold


def _finish(name, kind, settings, labels, ref_vec, ref_n, ref_missing, rows, notes, edges=()) -> FeatureDrift:
    """Thresholds and alert flags: an alert needs the effect (score over a threshold) AND p < alpha.

    The p-value gate matters for small chunks, where PSI is inflated by sampling noise; for large chunks
    every p-value is tiny and the effect size alone decides.
    """
    fixed = settings.fixed_threshold
    ref_scores = [r["score"] for r in rows if r["period"] == "reference" and r["n"] > 0]
    learned = ds.learned_threshold(ref_scores, floor=fixed / 2) if settings.learned else None
    if settings.learned and learned is None:
        notes.append("Fewer than 3 reference chunks, so no threshold is learned; only the fixed one applies.")
    ref_all = ref_n / (1 - ref_missing) if ref_missing < 1 else 0
    out = []
    for r in rows:
        n_all = r.pop("n_all")
        analysis = r["period"] == "analysis" and r["n"] > 0
        significant = r["p_value"] < settings.alpha
        missing_p = ds.two_proportion_p(ref_missing * ref_all, ref_all, r["missing_rate"] * n_all, n_all)
        out.append(
            ChunkDrift(
                **r,
                alert_fixed=analysis and significant and r["score"] >= fixed,
                alert_learned=analysis and significant and learned is not None and r["score"] > learned,
                alert_missing=r["period"] == "analysis"
                and n_all > 0
                and kind != "outcome"
                and abs(r["missing_rate"] - ref_missing) >= settings.missing_threshold
                and missing_p < settings.alpha,
            )
        )
    return FeatureDrift(
        name=name,
        kind=kind,
        bin_labels=tuple(labels),
        ref_counts=tuple(int(x) for x in ref_vec),
        ref_n=int(ref_n),
        ref_missing_rate=ref_missing,
        fixed_threshold=fixed,
        learned_threshold=learned,
        chunks=tuple(out),
        notes=tuple(notes),
        edges=edges,
    )


def _alerts(features: list[FeatureDrift], settings: DriftSettings) -> list[Alert]:
    metric = method_name(settings.method)
    out: list[Alert] = []
    for f in features:
        for c in f.chunks:
            base = dict(feature=f.name, chunk=c.key, start=c.start, end=c.end)
            # One row per chunk and signal: the fixed threshold is named when both thresholds are crossed.
            if c.alert_fixed:
                both = " (and learned)" if c.alert_learned else ""
                out.append(
                    Alert(**base, score=c.score, threshold=f.fixed_threshold, method=f"fixed {metric}{both}")
                )
            elif c.alert_learned and f.learned_threshold is not None:
                out.append(
                    Alert(**base, score=c.score, threshold=f.learned_threshold, method=f"learned {metric}")
                )
            if c.alert_missing:
                change = abs(c.missing_rate - f.ref_missing_rate)
                out.append(
                    Alert(**base, score=change, threshold=settings.missing_threshold, method="missing rate")
                )
    return sorted(out, key=lambda a: (a.start, a.feature, a.method))
