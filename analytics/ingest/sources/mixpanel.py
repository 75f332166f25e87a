"""Mixpanel: the raw event export API (JSON lines of {"event", "properties"})."""

from __future__ import annotations

from analytics.ingest.sources.spec import Container, Source

# developer.mixpanel.com/reference/raw-event-export: one JSON object a line, {"event": ..., "properties":
# {"time": epoch seconds, "distinct_id": ..., "$insert_id": ..., ...}}. Exposures: `$experiment_started`
# with "Experiment name" and "Variant name" (Mixpanel's Experiments report).
SOURCE = Source(
    key="mixpanel",
    label="Mixpanel",
    export="the raw event export API (/api/2.0/export), saved as .json or .jsonl (gzipped or not)",
    user=(("properties", "distinct_id"),),
    time=("properties", "time"),
    time_unit="text",
    event=("event",),
    exposure="$experiment_started",
    experiment=("properties", "Experiment name"),
    variant=("properties", "Variant name"),
    value=(("properties", "revenue"), ("properties", "$amount")),
    currency=(("properties", "currency"),),
    containers=(Container("properties", "json"),),
    signature=("event", "properties"),
    described='one JSON object a line: {"event": ..., "properties": {"time", "distinct_id", ...}}',
)
