"""What an export load says: its files named in sentences, where each column comes from, and what its shape
left out, repeated or broke (warnings and errors beside the validation's own)."""

from __future__ import annotations

import dataclasses

from analytics.errors import LiftboardError
from analytics.ingest.report import Issue, ValidationReport
from analytics.ingest.sources.exposures import ExposureCounts
from analytics.ingest.sources.flatten import Found, Plan
from analytics.ingest.sources.spec import Field, Source


def dotted(field: Field) -> str:
    return ".".join(field)


def label(names: list[str]) -> str:
    """How a set of files is named in sentences: the file, or the first and how many more."""
    if len(names) == 1:
        return names[0]
    if len(names) <= 3:
        return ", ".join(names[:-1]) + " and " + names[-1]
    return f"{names[0]} and {len(names) - 1} other files"


def mapping(source: Source) -> dict[str, str | None]:
    """Where each canonical column comes from, in the tool's own words (shown in the report)."""
    return {
        "user_id": ", else ".join(dotted(f) for f in source.user),
        "timestamp": dotted(source.time) + (" (microseconds)" if source.time_unit == "micros" else ""),
        "event": dotted(source.event),
        "value": ", else ".join(dotted(f) for f in source.value),
    }


def require_fields(names: str, columns: set[str], found: Found, source: Source) -> None:
    """Refuse an export whose rows cannot say who did what when (a Mixpanel file with no properties.time)."""
    for what, fields in (("user", source.user), ("time", (source.time,)), ("event", (source.event,))):
        present = any(
            (f[0] in columns) if len(f) == 1 else (f[1:] in found.keys.get(f[0], {})) for f in fields
        )
        if not present:
            raise LiftboardError(
                f"{names} is not {source.a_label} export: its rows have no {' or '.join(dotted(f) for f in fields)} "
                f"(the {what}); {source.a_label} export has {source.described}."
            )


def with_bad_json(report: ValidationReport, bad: int, examples: list[str], names: str, skip_bad_rows: bool
                  ) -> ValidationReport:  # fmt: skip
    """Count the rows that were not JSON (taken out of the stage before validation) in the report."""
    if not bad:
        return report
    eg = f" (e.g. {', '.join(repr(e) for e in examples)})" if examples else ""
    issue = Issue("warning" if skip_bad_rows else "error", "not_json",
                  f"{names} has {bad:,} lines or property cells that are not valid JSON{eg}; fix the export, or "
                  "skip those rows.", bad, tuple(examples), skippable=True)  # fmt: skip
    skipped = report.skipped_rows + (bad if skip_bad_rows else 0)
    return dataclasses.replace(
        report, issues=(issue, *report.issues), rows=report.rows + bad, skipped_rows=skipped
    )


def notes(
    repeated: int, counts: ExposureCounts, source: Source, the_plan: Plan, names: str
) -> tuple[Issue, ...]:
    """Warnings about what the export's own shape left out, repeated or did not expose."""
    out = []
    if repeated:
        out.append(Issue("warning", "repeated_rows", f"{repeated:,} rows of {names} repeat a row of another file (the "
                         "same id, e.g. tracks and an event table); each is loaded once.", repeated))  # fmt: skip
    if counts.not_exposed:
        out.append(Issue("warning", "not_exposed", f"{counts.not_exposed:,} {source.exposure} events answered false: "
                         "the flag left those users out, so they are not exposures.", counts.not_exposed))  # fmt: skip
    if counts.incomplete:
        out.append(Issue("warning", "exposure_without_variant", f"{counts.incomplete:,} {source.exposure} events name "
                         f"no {dotted(source.experiment)} or {dotted(source.variant)}; they assign no one.",
                         counts.incomplete))  # fmt: skip
    if not counts.exposures:
        out.append(Issue("warning", "no_exposures", f"{names} holds no {source.exposure} events, so no experiment is "
                         "loaded; include the exposure events to analyse one."))  # fmt: skip
    if the_plan.left_out:
        shown = ", ".join(the_plan.left_out[:6]) + ("…" if len(the_plan.left_out) > 6 else "")
        out.append(Issue("warning", "nested_left_out", f"{len(the_plan.left_out)} nested properties or columns "
                         f"(objects and lists) are not kept as columns: {shown}.", len(the_plan.left_out)))  # fmt: skip
    if the_plan.over_limit:
        out.append(Issue("warning", "too_many_properties", f"{the_plan.over_limit:,} properties are not kept: a table "
                         "holds at most 1,000 columns.", the_plan.over_limit))  # fmt: skip
    return tuple(out)
