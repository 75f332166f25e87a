"""The validation report of a load: its findings, what would be loaded, and how each column is staged."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One finding: errors refuse the load (unless the rows can be skipped), warnings are counts."""

    level: str  # "error" or "warning"
    code: str
    message: str
    count: int = 0
    examples: tuple[str, ...] = ()
    skippable: bool = False  # True when skip_bad_rows drops the offending rows instead of refusing


class Findings:
    """Errors, warnings and whether a load may go ahead, from a report's `issues`."""

    issues: tuple[Issue, ...]

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.level == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.level == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ValidationReport(Findings):
    """What a load would write and what is wrong with it, before anything is committed."""

    file_name: str
    kind: str
    mode: str  # "new", "append" or "replace"
    rows: int
    users: int | None
    first: datetime | None
    last: datetime | None
    mapping: dict[str, str | None]
    extras: dict[str, str]  # extra column (property) -> stored type
    issues: tuple[Issue, ...] = ()
    skipped_rows: int = 0
    approximate: bool = False  # users estimated, duplicates screened by a sample: rows > EXACT_LIMIT
    duplicates_in_file: int = 0
    duplicates_of_loaded: int = 0
    file_format: dict[str, str] = field(default_factory=dict)
    experiment: str | None = None  # the experiment named at load (--experiment), if any
    # feedback: rows naming a prediction_id, and those whose id is in no prediction (None: not checked,
    # because the file has no prediction_id or the workspace has no predictions table yet)
    rows_with_prediction_id: int = 0
    unmatched_prediction_ids: int | None = None

    @property
    def rows_to_load(self) -> int:
        return self.rows - self.skipped_rows

    @property
    def all_unmatched(self) -> bool:
        """True when no prediction_id of a feedback file is in the predictions table: loads only if confirmed."""
        return (
            bool(self.rows_with_prediction_id)
            and self.unmatched_prediction_ids == self.rows_with_prediction_id
        )

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["ok"] = self.ok
        doc["rows_to_load"] = self.rows_to_load
        doc["all_unmatched"] = self.all_unmatched
        return doc


@dataclass(frozen=True)
class Column:
    """How one canonical or extra column is staged: its stored name and type, and its bad-value flag."""

    name: str
    dtype: str
    required: bool = False
    flag: str | None = None  # stage column holding the raw text of values that did not parse
    source_type: str = "VARCHAR"
    extra: bool = False
