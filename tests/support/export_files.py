"""Each tool's export written in its documented shape, from one simulated log (see tests/support/exports.py).

`write_export(tool, rows, folder, fmt)` writes the files a user would take from the tool; WRITERS lists the
flavours (CSV, JSON lines, gzipped, zipped, Parquet) per tool. Shapes and sources: exports.py docstring.
"""

from __future__ import annotations

import gzip
import json
import uuid
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from tests.support.exports import MAIN, SECOND, distinct_ids, truth


def write_export(tool: str, rows: pd.DataFrame, folder: Path, fmt: str) -> list[Path]:
    """Write the log in the tool's export shape; fmt names the file flavour (see WRITERS)."""
    folder.mkdir(parents=True, exist_ok=True)
    return WRITERS[(tool, fmt)](rows, folder)


def _rows(log: pd.DataFrame) -> list[Any]:
    """The rows as named tuples, a missing value as None (pandas' string columns hold NaN)."""
    clean = log.astype(object).where(log.notna(), None)
    return list(clean.itertuples())


def _iso_z(t: datetime, i: int) -> str:
    # PostHog writes Z; a few rows with an explicit +00:00, as other clients and exports do.
    text = t.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text + ("+00:00" if i % 7 == 0 else "Z")


def _money(v: float, i: int) -> Any:
    """Revenue as the SDKs send it: mostly a number, sometimes a numeric string."""
    return f"{v:.2f}" if i % 5 == 0 else v


def _posthog_records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    log = truth("posthog", rows)
    distinct = distinct_ids(rows).tolist()
    out = []
    for i, r in enumerate(_rows(log)):
        props: dict[str, Any] = {"$browser": "Chrome", "$os": "Mac OS X", "$current_url": f"https://shop.example/p/{i % 40}",
                                 "$lib": "web", "plan": r.plan, "$set": {"plan": r.plan}, "$active_feature_flags": [MAIN]}  # fmt: skip
        if r.kind == "purchase":
            props["revenue"] = _money(r.value, i)
        if r.kind in ("exposure", "flag_off"):
            props["$feature_flag"] = r.experiment
            props["$feature_flag_response"] = r.variant if r.kind == "exposure" else False
        out.append({"uuid": str(uuid.UUID(int=i + 1)), "event": r.event, "properties": props,
                    "timestamp": _iso_z(r.ts, i), "distinct_id": distinct[i],
                    "person_id": r.person if r.person is not None else "",
                    "elements_chain": "", "created_at": _iso_z(r.ts + timedelta(seconds=2), 1)})  # fmt: skip
    return out


def _posthog_csv(rows: pd.DataFrame, folder: Path) -> list[Path]:
    recs = _posthog_records(rows)
    frame = pd.DataFrame([r | {"properties": json.dumps(r["properties"])} for r in recs])
    path = folder / "posthog-events.csv"
    frame.to_csv(path, index=False)
    return [path]


def _posthog_jsonl(rows: pd.DataFrame, folder: Path) -> list[Path]:
    path = folder / "posthog-events.jsonl"
    with path.open("w") as fh:
        for r in _posthog_records(rows):
            fh.write(json.dumps(r) + "\n")
    return [path]


def _posthog_parquet(rows: pd.DataFrame, folder: Path) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    recs = _posthog_records(rows)
    table = pa.table({
        "uuid": [r["uuid"] for r in recs],
        "event": [r["event"] for r in recs],
        "distinct_id": [r["distinct_id"] for r in recs],
        "person_id": [r["person_id"] or None for r in recs],
        "properties": [json.dumps(r["properties"]) for r in recs],  # a JSON-encoded string, as documented
        "timestamp": pa.array(pd.to_datetime([r["timestamp"] for r in recs], format="ISO8601", utc=True)),
    })  # fmt: skip
    path = folder / "posthog-events.parquet"
    pq.write_table(table, path)
    return [path]


def _amplitude_records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    log = truth("amplitude", rows)
    out = []
    for i, r in enumerate(_rows(log)):
        props: dict[str, Any] = {}
        if r.kind == "purchase":
            props["$revenue" if i % 3 == 0 else "revenue"] = _money(r.value, i)
            props["product_id"] = f"sku-{i % 30}"
        elif r.kind == "exposure":
            props = {"flag_key": r.experiment, "variant": r.variant}
        elif r.kind == "view":
            props = {"page": f"/p/{i % 40}"}
        else:
            continue  # Amplitude tracks no exposure for users outside the experiment
        t = r.ts.strftime("%Y-%m-%d %H:%M:%S.%f")
        out.append({"$insert_id": str(uuid.UUID(int=i + 7)), "amplitude_id": 10**9 + r.user, "app": 123456,
                    "city": "Lyon", "country": "France", "data": {"group_ids": {}}, "device_id": r.device,
                    "device_type": "Apple iPhone", "event_id": i, "event_properties": props, "event_time": t,
                    "event_type": r.event, "group_properties": {}, "groups": {}, "language": "French",
                    "library": "amplitude-ts/2.0.0", "os_name": "ios", "platform": "iOS",
                    "server_upload_time": t, "session_id": 1_700_000_000_000 + r.user, "user_id": r.user_id,
                    "user_properties": {"plan": r.plan, "cohort": "2026-03"}, "uuid": str(uuid.UUID(int=i + 99)),
                    "version_name": None, "hour": r.ts.strftime("%Y-%m-%d_%H")})  # fmt: skip
    return out


def _amplitude_gz(rows: pd.DataFrame, folder: Path) -> list[Path]:
    # One day's export unzipped to a single file, named as the API names its members.
    path = folder / "123456_2026-03-02_0#0.json.gz"
    with gzip.open(path, "wt") as fh:
        for r in _amplitude_records(rows):
            r.pop("hour")
            fh.write(json.dumps(r) + "\n")
    return [path]


def _amplitude_zip(rows: pd.DataFrame, folder: Path) -> list[Path]:
    # The Export API's own response: a zip of one gzipped JSON-lines file per hour.
    by_hour: dict[str, list[str]] = {}
    for r in _amplitude_records(rows):
        by_hour.setdefault(r.pop("hour"), []).append(json.dumps(r))
    path = folder / "amplitude-export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for hour, lines in sorted(by_hour.items()):
            zf.writestr(f"123456/123456_{hour}#0.json.gz", gzip.compress(("\n".join(lines) + "\n").encode()))
    return [path]


def _mixpanel_jsonl(rows: pd.DataFrame, folder: Path, name: str = "mixpanel-export.json") -> list[Path]:
    log = truth("mixpanel", rows)
    path = folder / name
    with path.open("w") as fh:
        for i, r in enumerate(_rows(log)):
            if r.kind == "flag_off":
                continue
            props: dict[str, Any] = {"time": int((r.ts - datetime(1970, 1, 1)).total_seconds()),
                                     "distinct_id": r.uid, "$insert_id": f"ins{i:08d}",
                                     "mp_processing_time_ms": 1_772_000_000_000 + i, "$browser": "Firefox",
                                     "$city": "Berlin", "mp_country_code": "DE", "plan": r.plan}  # fmt: skip
            if r.user_id is not None:
                props["$user_id"] = r.user_id
            props["$device_id"] = r.device
            if r.kind == "purchase":
                props["$amount" if i % 3 == 0 else "revenue"] = _money(r.value, i)
            if r.kind == "exposure":
                props |= {
                    "Experiment name": r.experiment,
                    "Variant name": r.variant,
                    "$experiment_type": "ab",
                }
            fh.write(json.dumps({"event": r.event, "properties": props}) + "\n")
    return [path]


_SEGMENT_COMMON = ("id", "anonymous_id", "user_id", "event", "event_text", "timestamp", "received_at",
                   "sent_at", "original_timestamp", "context_library_name", "context_page_path", "uuid_ts")  # fmt: skip


def _segment_tables(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    log = truth("segment", rows)
    tables: dict[str, list[dict[str, Any]]] = {}
    for i, r in enumerate(_rows(log)):
        if r.kind == "flag_off":
            continue
        t = r.ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        base = {"id": f"ajs-{i:08x}", "anonymous_id": r.device, "user_id": r.user_id, "event": r.event,
                "event_text": {"product_viewed": "Product Viewed", "order_completed": "Order Completed",
                               "experiment_viewed": "Experiment Viewed"}[r.event],
                "timestamp": t, "received_at": t, "sent_at": t, "original_timestamp": t,
                "context_library_name": "analytics.js", "context_page_path": f"/p/{i % 40}", "uuid_ts": t}  # fmt: skip
        if r.kind == "purchase":
            base |= {"order_id": f"o{i}", "revenue": r.value, "currency": "EUR", "plan": r.plan}
        elif r.kind == "exposure":
            exp_id = {MAIN: "exp_41", SECOND: "exp_42"}[r.experiment]
            var_id = {"control": "0", "treatment": "1", "short": "1"}[r.variant]
            base |= {"experiment_id": exp_id, "experiment_name": r.experiment, "variation_id": var_id,
                     "variation_name": r.variant}  # fmt: skip
        else:
            base |= {"product_id": f"sku-{i % 30}", "plan": r.plan}
        tables.setdefault(r.event, []).append(base)
    return {name: pd.DataFrame(recs) for name, recs in tables.items()}


def _segment_csv(rows: pd.DataFrame, folder: Path) -> list[Path]:
    # With the `tracks` table too: every track call again, without its properties, under the same id.
    tables = _segment_tables(rows)
    tracks = pd.concat([t[list(_SEGMENT_COMMON)] for t in tables.values()]).sort_values("timestamp")
    paths = []
    for name, frame in sorted((tables | {"tracks": tracks}).items()):
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def _segment_parquet(rows: pd.DataFrame, folder: Path) -> list[Path]:
    paths = []
    for name, frame in sorted(_segment_tables(rows).items()):
        path = folder / f"{name}.parquet"
        for col in ("timestamp", "received_at", "sent_at", "original_timestamp", "uuid_ts"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        frame.to_parquet(path, index=False)
        paths.append(path)
    return paths


def _ga4_param(key: str, value: Any) -> dict[str, Any]:
    v: dict[str, Any] = {"string_value": None, "int_value": None, "float_value": None, "double_value": None}
    if isinstance(value, str):
        v["string_value"] = value
    elif isinstance(value, float) and value.is_integer():
        v["int_value"] = int(value)  # gtag sends whole amounts as integers
    elif isinstance(value, float):
        v["double_value"] = value
    else:
        v["int_value"] = int(value)
    return {"key": key, "value": v}


def _ga4_records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    log = truth("ga4", rows)
    out = []
    for i, r in enumerate(_rows(log)):
        if r.kind == "flag_off":
            continue
        micros = int((r.ts - datetime(1970, 1, 1)) / timedelta(microseconds=1))
        params = [_ga4_param("ga_session_id", 1_700_000_000 + r.user), _ga4_param("page_location", f"https://shop.example/p/{i % 40}")]  # fmt: skip
        if r.kind == "purchase":
            params += [
                _ga4_param("value", r.value if i % 11 else f"{r.value:.2f}"),
                _ga4_param("currency", "EUR"),
            ]
        if r.kind == "exposure":
            params += [_ga4_param("experiment_id", r.experiment), _ga4_param("variation_id", r.variant)]
        user_props = [
            {"key": "plan", "value": _ga4_param("plan", r.plan)["value"] | {"set_timestamp_micros": micros}}
        ]
        out.append({"event_date": r.ts.strftime("%Y%m%d"), "event_timestamp": micros, "event_name": r.event,
                    "event_params": params, "event_previous_timestamp": None, "event_bundle_sequence_id": i,
                    "user_id": r.user_id, "user_pseudo_id": r.device,
                    "user_properties": user_props, "user_first_touch_timestamp": micros,
                    "device": {"category": "mobile" if r.user % 3 else "desktop", "operating_system": "Android",
                               "web_info": {"browser": "Chrome", "hostname": "shop.example"}},
                    "geo": {"country": "Spain", "city": "Madrid"}, "platform": "WEB",
                    "items": [{"item_id": "sku-1", "quantity": 1}] if r.kind == "purchase" else []})  # fmt: skip
    return out


def _ga4_parquet(rows: pd.DataFrame, folder: Path) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    value = pa.struct([("string_value", pa.string()), ("int_value", pa.int64()), ("float_value", pa.float64()),
                       ("double_value", pa.float64())])  # fmt: skip
    user_value = pa.struct(list(value) + [pa.field("set_timestamp_micros", pa.int64())])
    schema = pa.schema([
        ("event_date", pa.string()), ("event_timestamp", pa.int64()), ("event_name", pa.string()),
        ("event_params", pa.list_(pa.struct([("key", pa.string()), ("value", value)]))),
        ("event_previous_timestamp", pa.int64()), ("event_bundle_sequence_id", pa.int64()),
        ("user_id", pa.string()), ("user_pseudo_id", pa.string()),
        ("user_properties", pa.list_(pa.struct([("key", pa.string()), ("value", user_value)]))),
        ("user_first_touch_timestamp", pa.int64()),
        ("device", pa.struct([("category", pa.string()), ("operating_system", pa.string()),
                              ("web_info", pa.struct([("browser", pa.string()), ("hostname", pa.string())]))])),
        ("geo", pa.struct([("country", pa.string()), ("city", pa.string())])), ("platform", pa.string()),
        ("items", pa.list_(pa.struct([("item_id", pa.string()), ("quantity", pa.int64())]))),
    ])  # fmt: skip
    recs = _ga4_records(rows)
    paths = []
    for day in sorted({r["event_date"] for r in recs}):  # one table a day: events_YYYYMMDD
        table = pa.Table.from_pylist([r for r in recs if r["event_date"] == day], schema=schema)
        path = folder / f"events_{day}.parquet"
        pq.write_table(table, path)
        paths.append(path)
    return paths


def _ga4_jsonl(rows: pd.DataFrame, folder: Path) -> list[Path]:
    # BigQuery's newline-delimited JSON export of the same table (INT64 written as JSON strings).
    path = folder / "ga4-events.ndjson.gz"
    with gzip.open(path, "wt") as fh:
        for r in _ga4_records(rows):
            r["event_timestamp"] = str(r["event_timestamp"])
            fh.write(json.dumps(r) + "\n")
    return [path]


WRITERS: dict[tuple[str, str], Callable[[pd.DataFrame, Path], list[Path]]] = {
    ("posthog", "csv"): _posthog_csv,
    ("posthog", "jsonl"): _posthog_jsonl,
    ("posthog", "parquet"): _posthog_parquet,
    ("amplitude", "jsonl.gz"): _amplitude_gz,
    ("amplitude", "zip"): _amplitude_zip,
    ("mixpanel", "json"): _mixpanel_jsonl,
    ("mixpanel", "ndjson"): lambda rows, folder: _mixpanel_jsonl(rows, folder, "mixpanel-export.ndjson"),
    ("segment", "csv"): _segment_csv,
    ("segment", "parquet"): _segment_parquet,
    ("ga4", "parquet"): _ga4_parquet,
    ("ga4", "jsonl.gz"): _ga4_jsonl,
}
