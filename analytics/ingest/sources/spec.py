"""What a tool's export looks like: where the user, time, event, value and exposure live in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: A field: a top-level column, then keys inside it when it is a property container, e.g.
#: ("properties", "distinct_id") is Mixpanel's user and ("event_params", "value") GA4's value param.
Field = tuple[str, ...]
ToolKey = Literal["posthog", "amplitude", "mixpanel", "segment", "ga4"]
#: The tools, in the order they are offered (`--from` choices: this module is light, with no engine import).
TOOLS: tuple[str, ...] = ("posthog", "amplitude", "mixpanel", "segment", "ga4")
#: How a container holds properties: a JSON object (or its text), GA4's key/value array, or a struct.
ContainerKind = Literal["json", "kv", "struct"]


@dataclass(frozen=True)
class Container:
    """A column whose keys become event properties (flattened; the container itself is never stored)."""

    column: str
    kind: ContainerKind
    #: "" keeps a property's own name; "user" names a clash `user_<key>`; "column" always prefixes
    #: `<column>_` (GA4's device, geo: device_category, geo_country).
    naming: Literal["", "user", "column"] = ""

    @property
    def free_keys(self) -> bool:
        """Free-form keys, each a property under its own name (PostHog's properties), found key by key; not a
        struct-like object whose leaves are typed one level down (GA4's device)."""
        return self.naming != "column"


@dataclass(frozen=True)
class Source:
    """One analytics tool's export convention (the exposure table of issue 16), as data."""

    key: ToolKey
    label: str
    #: Which export to take from the tool, in a sentence (README, Data page, errors).
    export: str
    user: tuple[Field, ...]  # the first non-blank one is the user
    time: Field
    time_unit: Literal["text", "micros"]  # text: ISO 8601 (any offset, Z) or epoch seconds/milliseconds
    event: Field
    exposure: str  # the exposure event's name (Segment: its table/event name)
    experiment: Field
    variant: Field
    value: tuple[Field, ...]  # the first number present is the event's value (revenue)
    #: Where an event names the currency of its value (PostHog's `currency` property, GA4's param): amounts
    #: are never converted, so a non-dollar or mixed currency is said at load (see sources.money).
    currency: tuple[Field, ...] = ()
    containers: tuple[Container, ...] = ()
    #: Names shown for the experiment and variant ids (Segment's experiment_name, variation_name).
    experiment_label: Field | None = None
    variant_label: Field | None = None
    #: Variant values that say the user is not in the experiment (PostHog answers `false`).
    not_exposed: tuple[str, ...] = ()
    #: A row id repeated across the export's files (Segment: `tracks` repeats every event table's rows).
    row_id: Field | None = None
    #: Top-level columns that tell this tool's export apart (all of them present).
    signature: tuple[str, ...] = ()
    #: Columns of a typical export, named when a file is refused.
    described: str = ""

    @property
    def a_label(self) -> str:
        """The label with its article, for sentences: 'an Amplitude export', 'a PostHog export'."""
        return f"{'an' if self.label[0] in 'AEIOU' else 'a'} {self.label}"

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every field the convention reads (mapped fields are not kept again as properties)."""
        out = (*self.user, self.time, self.event, self.experiment, self.variant, *self.value)
        extra = tuple(f for f in (self.experiment_label, self.variant_label, self.row_id) if f is not None)
        return out + extra

    def container(self, column: str) -> Container | None:
        return next((c for c in self.containers if c.column == column), None)
