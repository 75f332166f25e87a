"""Segment: warehouse tables (`tracks` and one table per event, properties as columns)."""

from __future__ import annotations

from analytics.ingest.sources.spec import Source

# segment.com/docs/connections/storage/warehouses/schema: a table per event named after it in snake_case,
# its properties as columns, `timestamp` the skew-corrected time; `tracks` holds every track call again
# without properties, under the same `id`. Exposures: the `experiment_viewed` table (the Experiment Viewed
# event of Segment's A/B testing spec: experiment_id, experiment_name, variation_id, variation_name).
SOURCE = Source(
    key="segment",
    label="Segment",
    export="the warehouse tables, one CSV or Parquet file each: experiment_viewed, the tables of the events "
    "you measure (e.g. order_completed), optionally tracks",
    user=(("user_id",), ("anonymous_id",)),
    time=("timestamp",),
    time_unit="text",
    event=("event",),
    exposure="experiment_viewed",
    experiment=("experiment_id",),
    variant=("variation_id",),
    value=(("revenue",),),
    currency=(("currency",),),
    experiment_label=("experiment_name",),
    variant_label=("variation_name",),
    row_id=("id",),
    signature=("anonymous_id", "event", "timestamp", "received_at"),
    described="id, anonymous_id, user_id, event, timestamp, received_at and the event's properties",
)
