"""Per-user outcome tables: where an experiment's users come from, and its `outcome:COLUMN` metrics.

An experiment's exposed users come from the assignments table when it is there, else from the outcomes table
(one row per user, optionally with an exposure timestamp), else from the totals table (one row per arm). An
``outcome:COLUMN`` metric reads the column of the outcomes table: a proportion when the column is boolean or
holds only 0 and 1, a mean otherwise. A user with several rows counts once (any true value for a proportion,
the mean of the rows for a number); a user with no value in the column is left out of that metric and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from analytics.errors import LiftboardError
from analytics.experiments.arms import ExperimentConfig, data_end, experiment_config, no_such_experiment
from analytics.experiments.spec import MetricSpec
from analytics.experiments.totals import read_totals
from analytics.workspace import (
    OutcomeColumns,
    Workspace,
    is_money,
    outcome_columns,
    quote_ident,
)
from analytics.workspace import experiment_source as find_source


def experiment_source(ws: Workspace, experiment: str) -> str:
    """The table an experiment's users come from, or one sentence naming the experiments there are."""
    source = find_source(ws, experiment)
    if source is not None:
        return source
    raise no_such_experiment(ws, experiment)


def resolve_outcomes(ws: Workspace, experiment: str, specs: Sequence[MetricSpec]) -> list[MetricSpec]:
    """Each ``outcome:COLUMN`` spec checked against the outcomes table and resolved: proportion or mean, money.

    Other specs are returned as they are. One query tells, per numeric column, whether it holds only 0 and 1.
    """
    wanted = [s for s in specs if s.kind == "outcome"]
    if not wanted:
        return list(specs)
    if not ws.has_table("outcomes"):
        raise LiftboardError(
            f"The workspace has no outcomes table, so {wanted[0].text} cannot be computed; load a per-user "
            "outcomes file (--kind outcomes, or Outcomes on the Data page)."
        )
    cols = ws.columns("outcomes")
    known = outcome_columns(cols)
    for s in wanted:
        if s.column not in known.outcomes:
            listed = ", ".join(known.outcomes) or "none"
            what = "a text column (a segment, not an outcome)" if s.column in known.segments else "no column"
            raise LiftboardError(
                f"{s.column!r} is {what} of the outcomes table; the outcome columns are: {listed}."
            )
    numeric = sorted({s.column for s in wanted if s.column not in known.booleans and s.column})
    binary: dict[str, bool] = {c: True for c in known.booleans}
    if numeric:
        checks = ", ".join(
            f"min(CASE WHEN {quote_ident(c)} IS NULL OR {quote_ident(c)} IN (0, 1) THEN 1 ELSE 0 END), "
            f"count({quote_ident(c)})"
            for c in numeric
        )
        row = ws.query(
            f"SELECT {checks} FROM {ws.table('outcomes')} WHERE experiment = ?",
            [experiment],
            purpose="which outcome columns hold only 0 and 1",
        )[0]
        for k, c in enumerate(numeric):
            zero_one, values = row[2 * k], row[2 * k + 1]
            if not values:
                raise LiftboardError(
                    f"The outcome {c!r} has no values for the experiment {experiment!r}; choose another column."
                )
            binary[c] = zero_one == 1
    out = []
    for s in specs:
        if s.kind != "outcome":
            out.append(s)
            continue
        col = s.column or ""
        out.append(replace(s, binary=binary[col], money=is_money(ws, "outcomes", col)))
    return out


def outcome_cte(
    ws: Workspace,
    items: Sequence[tuple[int, MetricSpec]],
    *,
    covariate: str | None = None,
    segment: str | None = None,
) -> str:
    """The CTE ``oc``: one row per user of the experiment (bound as the one ``?``) with each outcome's value.

    ``y{i}`` is the user's value of metric i (NULL when the user has none), ``cov`` the CUPED covariate, ``seg``
    the segment attribute. Several rows of one user: max for a proportion (any true), the mean for a number.
    """
    table = ws.table("outcomes")
    cols = [f"{'max' if s.binary else 'avg'}(CAST({ws.column('outcomes', s.column or '')} AS DOUBLE)) AS y{i}"
            for i, s in items]  # fmt: skip
    if covariate is not None:
        cols.append(f"avg(CAST({ws.column('outcomes', covariate)} AS DOUBLE)) AS cov")
    if segment is not None:
        cols.append(f"min(CAST({ws.column('outcomes', segment)} AS VARCHAR)) AS seg")
    return (
        f"oc AS (\n  SELECT user_id, {', '.join(cols)}\n  FROM {table} WHERE experiment = ? GROUP BY user_id)"
    )


def check_covariate(ws: Workspace, covariate: str) -> str:
    """The CUPED covariate named by the user: a numeric or boolean column of the outcomes table."""
    if not ws.has_table("outcomes"):
        raise LiftboardError(
            "A CUPED covariate column is read from the outcomes table, and the workspace has none; load a "
            "per-user outcomes file with a pre-period column (e.g. pre_revenue)."
        )
    known = outcome_columns(ws.columns("outcomes"))
    if covariate not in known.outcomes:
        raise LiftboardError(
            f"The CUPED covariate {covariate!r} is not a numeric column of the outcomes table; choose one of: "
            f"{', '.join(known.outcomes) or 'none'}."
        )
    return covariate


def experiment_end(ws: Workspace, experiment: str, source: str) -> datetime | None:
    """The last exposure of an experiment (None when its users have no exposure time)."""
    if source == "totals" or "timestamp" not in ws.columns(source):
        return None
    return ws.scalar(
        f"SELECT max(timestamp) FROM {ws.table(source)} WHERE experiment = ?",
        [experiment],
        purpose="the experiment's last exposure",
    )


def analysis_end(
    ws: Workspace, experiment: str, specs: Sequence[MetricSpec], source: str, through: date | None
) -> datetime | None:
    """Where the data end for an analysis: the day after the date they are complete through, when set; else
    the last event (metrics with windows); else, for outcomes read as they are, the last exposure."""
    if through is not None:
        return datetime.combine(through, time()) + timedelta(days=1)
    if any(s.windowed for s in specs):
        return data_end(ws)
    return experiment_end(ws, experiment, source)


def check_exposure_times(ws: Workspace, experiment: str, specs: Sequence[MetricSpec], source: str) -> None:
    """Metrics with a window after exposure need exposure times: an outcomes file without them has none."""
    windowed = [s for s in specs if s.windowed]
    if source != "outcomes" or not windowed:
        return
    if experiment_end(ws, experiment, source) is None:
        raise LiftboardError(
            f"The experiment {experiment!r} has no exposure times (its outcomes file has no timestamp column), so "
            f"{windowed[0].text}, which counts events in a window after exposure, cannot be computed; use "
            "outcome:COLUMN metrics, or load the file again with its exposure timestamp."
        )


def parse_data_through(text: str) -> date:
    """A date typed by the user (YYYY-MM-DD) as the date the data are complete through."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise LiftboardError(
            f"The date the data are complete through must be written YYYY-MM-DD, e.g. 2026-10-31 (got {text!r})."
        ) from None


def experiment_columns(ws: Workspace, experiment: str) -> OutcomeColumns:
    """The outcome and segment columns of an outcomes experiment that hold values for it (several experiments
    share the table, and one's columns are blank in another's rows); for a totals experiment, its outcomes."""
    source = experiment_source(ws, experiment)
    if source == "totals":
        arms = read_totals(ws, experiment)
        names = tuple(arms[0].counts) + tuple(arms[0].means) if arms else ()
        return OutcomeColumns(names, tuple(arms[0].counts) if arms else (), ())
    if source != "outcomes":
        return OutcomeColumns((), (), ())
    cols = outcome_columns(ws.columns("outcomes"))
    every = [*cols.outcomes, *cols.segments]
    if not every:
        return cols
    row = ws.query(
        f"SELECT {', '.join(f'count({quote_ident(c)})' for c in every)} FROM {ws.table('outcomes')} "
        "WHERE experiment = ?",
        [experiment],
        purpose="the columns of the experiment",
    )[0]
    held = {c for c, n in zip(every, row, strict=True) if n}
    return OutcomeColumns(
        tuple(c for c in cols.outcomes if c in held),
        tuple(c for c in cols.booleans if c in held),
        tuple(c for c in cols.segments if c in held),
    )


def default_metrics(ws: Workspace, experiment: str) -> list[str]:
    """The metrics analysed when none are named: the saved ones, else every outcome of an outcomes or totals
    experiment, else 7-day purchase conversion."""
    saved = list(experiment_config(ws, experiment).metrics)
    if saved:
        return saved
    if experiment_source(ws, experiment) in ("outcomes", "totals"):
        return [f"outcome:{c}" for c in experiment_columns(ws, experiment).outcomes]
    return ["conversion:purchase:7d"]


def config_with_defaults(ws: Workspace, experiment: str) -> ExperimentConfig:
    """The experiment's saved settings; an outcomes or totals experiment without saved metrics takes its
    outcomes (the first as primary), so the Overview and the report read it without a setup step."""
    cfg = experiment_config(ws, experiment)
    if cfg.primary is not None or experiment_source(ws, experiment) not in ("outcomes", "totals"):
        return cfg
    metrics = default_metrics(ws, experiment)
    return replace(cfg, primary=metrics[0], secondary=tuple(metrics[1:])) if metrics else cfg
