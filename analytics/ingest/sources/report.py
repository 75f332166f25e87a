"""What loading a tool export would write and what is wrong with it, before anything is committed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from analytics.ingest.report import Findings, Issue, ValidationReport
from analytics.ingest.sources.exposures import ExperimentFound, ExposureCounts
from analytics.ingest.sources.money import ValueUnit


@dataclass(frozen=True)
class ExportFileReport:
    """One file of the export: its name, how it was read and the rows it gives."""

    name: str
    read_as: str
    rows: int


@dataclass(frozen=True)
class ExportReport(Findings):
    """The events and assignments an export gives, the experiments found, and every problem, counted."""

    source: str
    label: str
    files: tuple[ExportFileReport, ...]
    events: ValidationReport
    assignments: ValidationReport | None
    experiments: tuple[ExperimentFound, ...]
    exposures: ExposureCounts
    properties: tuple[str, ...]  # the flattened properties stored as event columns
    notes: tuple[Issue, ...] = ()  # what the export's shape left out or repeated (warnings)
    experiment: str | None = None  # --experiment: the one experiment kept
    values: ValueUnit | None = None  # where the event values come from and whether they are money

    @property
    def issues(self) -> tuple[Issue, ...]:  # type: ignore[override]  # every part's findings
        return self.events.issues + (self.assignments.issues if self.assignments else ()) + self.notes

    @property
    def flag_off_exposures(self) -> int:
        return self.exposures.not_exposed

    @property
    def assignment_rows(self) -> int:
        return self.assignments.rows_to_load if self.assignments else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "label": self.label,
            "ok": self.ok,
            "files": [asdict(f) for f in self.files],
            "events": self.events.to_dict(),
            "assignments": self.assignments.to_dict() if self.assignments else None,
            "experiments": [e.to_dict() for e in self.experiments],
            "exposures": asdict(self.exposures),
            "properties": list(self.properties),
            "notes": [asdict(i) for i in self.notes],
            "experiment": self.experiment,
            "values": self.values.to_dict() if self.values else None,
        }


@dataclass(frozen=True)
class ExportLoadResult:
    """A committed export load: the report it passed and its lb_loads records (one per file, one derived)."""

    report: ExportReport
    records: tuple[dict[str, Any], ...]

    @property
    def experiments(self) -> tuple[ExperimentFound, ...]:
        return self.report.experiments

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict() | {"records": list(self.records)}
