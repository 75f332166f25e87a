"""PostHog: the events export (batch export, or the SQL editor's CSV of the events table)."""

from __future__ import annotations

from analytics.ingest.sources.spec import Container, Source

# Columns and types: posthog.com/docs/data-warehouse/sources/posthog (properties "stored as a String") and
# the batch export's events model (posthog.com/docs/data-pipelines/batch-exports/s3). Exposures are
# `$feature_flag_called` events (posthog-js, posthog-node) whose `$feature_flag_response` is the variant, or
# `false` for a user the flag does not include (PostHog's experiments count only variant answers).
SOURCE = Source(
    key="posthog",
    label="PostHog",
    export="the events table: a batch export (S3: JSON lines or Parquet) or the SQL editor's CSV of "
    "`select * from events`",
    user=(("person_id",), ("distinct_id",)),
    time=("timestamp",),
    time_unit="text",
    event=("event",),
    exposure="$feature_flag_called",
    experiment=("properties", "$feature_flag"),
    variant=("properties", "$feature_flag_response"),
    value=(("properties", "revenue"),),
    currency=(("properties", "currency"),),
    containers=(Container("properties", "json"), Container("person_properties", "json", naming="user")),
    not_exposed=("false",),
    signature=("event", "properties", "timestamp", "distinct_id"),
    described="uuid, event, properties (JSON), timestamp, distinct_id, person_id",
)
