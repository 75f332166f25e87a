"""GA4: the BigQuery export's events_YYYYMMDD tables (Parquet, or BigQuery's JSON lines)."""

from __future__ import annotations

from analytics.ingest.sources.spec import Container, Source

# support.google.com/analytics/answer/7029846: event_timestamp INT64 microseconds (UTC), event_name,
# event_params ARRAY<STRUCT<key, value STRUCT<string_value, int_value, float_value, double_value>>>,
# user_id, user_pseudo_id, user_properties (the same, with set_timestamp_micros), device, geo, ... structs.
# Exposures: `experiment_viewed` with params experiment_id and variation_id (GrowthBook's GA4 guide).
SOURCE = Source(
    key="ga4",
    label="GA4",
    export="the BigQuery export's events_YYYYMMDD tables, exported as Parquet (or newline-delimited JSON)",
    user=(("user_id",), ("user_pseudo_id",)),
    time=("event_timestamp",),
    time_unit="micros",
    event=("event_name",),
    exposure="experiment_viewed",
    experiment=("event_params", "experiment_id"),
    variant=("event_params", "variation_id"),
    value=(("event_params", "value"),),
    currency=(("event_params", "currency"),),
    containers=(
        Container("event_params", "kv"),
        Container("user_properties", "kv", naming="user"),
        *(
            Container(c, "struct", naming="column")
            for c in (
                "device",
                "geo",
                "app_info",
                "traffic_source",
                "collected_traffic_source",
                "privacy_info",
            )
        ),
    ),
    signature=("event_timestamp", "event_name", "event_params", "user_pseudo_id"),
    described="event_date, event_timestamp, event_name, event_params, user_id, user_pseudo_id, user_properties",
)
