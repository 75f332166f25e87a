"""Amplitude: the Export API's events (a zip of gzipped JSON-lines files, one per hour)."""

from __future__ import annotations

from analytics.ingest.sources.spec import Container, Source

# amplitude.com/docs/apis/analytics/export (UTC times, zip of gzipped JSON); the event fields as in the
# Export API's output (user_id, device_id, event_type, event_time "2024-01-01 12:00:00.123456",
# event_properties, user_properties, ...). Exposures: `$exposure` with flag_key and variant
# (amplitude.com/docs/feature-experiment/track-exposure).
SOURCE = Source(
    key="amplitude",
    label="Amplitude",
    export="the Export API (/api/2/export): its zip as downloaded, or the .json.gz files inside it",
    user=(("user_id",), ("device_id",)),
    time=("event_time",),
    time_unit="text",
    event=("event_type",),
    exposure="$exposure",
    experiment=("event_properties", "flag_key"),
    variant=("event_properties", "variant"),
    value=(("event_properties", "revenue"), ("event_properties", "$revenue")),
    currency=(("event_properties", "currency"), ("event_properties", "$currency")),
    containers=(Container("event_properties", "json"), Container("user_properties", "json", naming="user")),
    signature=("event_type", "event_time", "event_properties"),
    described="user_id, device_id, event_type, event_time, event_properties, user_properties",
)
