"""Column mapping: which source column holds each canonical column, recognising the usual spellings."""

from __future__ import annotations

import re

from analytics.errors import LiftboardError
from analytics.ingest.detect import FileInfo
from analytics.workspace import CANONICAL, KINDS

#: Usual spellings of each canonical column, compared after lower-casing and dropping non-letters/digits.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "user_id": (
        "userid",
        "user",
        "uid",
        "distinctid",
        "customerid",
        "customer",
        "clientid",
        "accountid",
        "memberid",
        "visitorid",
        "anonymousid",
        "personid",
        "deviceid",
        "playerid",
        "player",
        "userpseudoid",
        "subscriberid",
        "contactid",
    ),
    "timestamp": (
        "timestamp",
        "ts",
        "time",
        "eventtime",
        "createdat",
        "occurredat",
        "datetime",
        "eventtimestamp",
        "eventts",
        "eventdate",
        "date",
        "assignedat",
        "exposedat",
        "exposuretime",
        "firstexposure",
        "loggedat",
        "receivedat",
        "sentat",
        "requesttime",
        "created",
        "when",
    ),
    "event": ("event", "eventname", "name", "action", "eventtype", "type", "eventkey"),
    "value": ("value", "revenue", "amount", "revenueusd", "amountusd", "price", "total"),
    "experiment": (
        "experiment",
        "experimentid",
        "experimentname",
        "experimentkey",
        "test",
        "testid",
        "testname",
        "exp",
        "featureflag",
        "flag",
    ),
    "variant": (
        "variant",
        "bucket",
        "group",
        "arm",
        "treatment",
        "variation",
        "variantid",
        "variationid",
        "variantname",
        "cohort",
        "branch",
        "version",
        "testgroup",
        "abgroup",
        "experimentgroup",
        "treatmentgroup",
        "groupname",
        "variationname",
        "condition",
    ),
    "users": (
        "users",
        "visitors",
        "uniquevisitors",
        "uniqueusers",
        "participants",
        "samplesize",
        "n",
        "exposures",
        "exposed",
        "exposedusers",
        "sessions",
        "visits",
        "traffic",
        "players",
        "count",
    ),
    "prediction_id": ("predictionid", "inferenceid", "requestid", "responseid", "completionid", "prediction"),
    "model_version": ("modelversion", "model", "modelname", "version", "modelid"),
    "score": ("score", "prediction", "probability", "confidence", "pred", "predictionscore"),
    "latency_ms": ("latencyms", "latency", "durationms", "responsetimems", "elapsedms"),
    "cost_usd": ("costusd", "cost", "costdollars", "priceusd"),
    "tokens_in": ("tokensin", "inputtokens", "prompttokens", "tokensinput"),
    "tokens_out": ("tokensout", "outputtokens", "completiontokens", "tokensoutput"),
    "tokens_cached": ("tokenscached", "cachedtokens", "cachereadtokens", "cachetokens"),
    "feedback_id": ("feedbackid",),
    "signal": ("signal", "feedback", "feedbacktype", "reaction", "verdict", "label", "outcome"),
    "rating": ("rating", "stars", "ratingvalue"),
    "comment": ("comment", "comments", "note", "notes", "remark"),
    "corrected_output": ("correctedoutput", "correction", "corrected", "editedoutput", "correctedtext"),
}


#: Kinds whose rows belong to an experiment: a file without an experiment column names it (``--experiment``).
EXPERIMENT_KINDS: tuple[str, ...] = ("assignments", "outcomes", "totals")


def experiment_name_from_file(file_name: str) -> str:
    """The experiment name proposed for a file without an experiment column: its name without extensions."""
    stem = file_name.rsplit("/", 1)[-1]
    for ext in (".gz", ".csv", ".tsv", ".txt", ".parquet"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    return stem.strip() or "experiment"


def normalise(name: str) -> str:
    """Compare column names case- and punctuation-insensitively: 'User-ID' == 'user_id' == 'userId'."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def canonical_columns(kind: str) -> dict[str, str]:
    """Every canonical column of a kind with its type, required first."""
    check_kind(kind)
    return {**CANONICAL[kind]["required"], **CANONICAL[kind]["optional"]}


def check_kind(kind: str) -> None:
    if kind not in CANONICAL:
        raise LiftboardError(f"Unknown kind {kind!r}; use one of {', '.join(KINDS)}.")


def guess_mapping(kind: str, header: tuple[str, ...] | list[str]) -> dict[str, str | None]:
    """Canonical column -> source column, recognising the usual spellings; None where nothing fits."""
    cols = canonical_columns(kind)
    norm = {}
    for h in header:
        norm.setdefault(normalise(h), h)
    used: set[str] = set()
    mapping: dict[str, str | None] = dict.fromkeys(cols)
    # Exact canonical names first, so that a file with both `score` and `prediction` maps each to itself.
    for canon in cols:
        src = norm.get(normalise(canon))
        if src is not None and src not in used:
            mapping[canon], _ = src, used.add(src)
    for canon in cols:
        if mapping[canon] is not None:
            continue
        for alias in SYNONYMS.get(canon, ()):
            src = norm.get(alias)
            if src is not None and src not in used:
                mapping[canon], _ = src, used.add(src)
                break
    return mapping


#: The most columns a file may have: validation checks every column, and its cost grows faster than their number.
MAX_COLUMNS = 1000


#: Names pandas gives its row numbers when a frame is written with its index: a blank first name, or
#: ``Unnamed: 0`` once such a file has been read and written again.
_INDEX_NAMES = re.compile(r"^(|Unnamed: ?0)$")


def pandas_index(info: FileInfo) -> str | None:
    """The leading column of row numbers that pandas writes (``df.to_csv()``), if the file has one."""
    first = info.header[0] if info.header else None
    if first is None or len(info.header) < 2 or not _INDEX_NAMES.match(first.strip()):
        return None
    return first


def index_note(info: FileInfo) -> str:
    """The note that a pandas index column was left out (see ``pandas_index``)."""
    return (
        f"The first column of {info.name} has no name: it holds the row numbers pandas writes with a table, "
        "so it is left out (the other columns load as usual)."
    )


def check_header(info: FileInfo) -> None:
    """Refuse blank or duplicate column names (a mapping to them would be ambiguous), and too many columns.

    A blank first name is pandas' row-number column (``pandas_index``): left out with a note, not refused.
    """
    if len(info.header) > MAX_COLUMNS:
        raise LiftboardError(
            f"{info.name} has {len(info.header):,} columns, more than the {MAX_COLUMNS:,} Liftboard loads; "
            "keep the columns you need (ids, time, event and the properties you analyse) and load it again."
        )
    index = pandas_index(info)
    blank = [i + 1 for i, h in enumerate(info.header) if not h.strip() and not (i == 0 and index is not None)]
    if blank:
        raise LiftboardError(
            f"{info.name} has a blank column name (column {blank[0]}); name every column in the header line."
        )
    seen: dict[str, str] = {}
    for h in info.header:
        if h.lower() in seen:
            raise LiftboardError(
                f"{info.name} has two columns named {h!r}; rename one of them in the header line."
            )
        seen[h.lower()] = h


def resolve_mapping(
    kind: str,
    info: FileInfo,
    overrides: dict[str, str | None] | None = None,
    *,
    experiment: str | None = None,
) -> dict[str, str | None]:
    """The automatic mapping corrected by the user's choices, checked against the file's header.

    ``experiment`` names the experiment of a file that has no experiment column (one file, one experiment);
    with an experiment column it keeps only that experiment's rows (see ``staging.stage_sql``).
    """
    mapping = guess_mapping(kind, info.header)
    cols = canonical_columns(kind)
    for canon, src in (overrides or {}).items():
        if canon not in cols:
            raise LiftboardError(f"{canon!r} is not a column of {kind}; map one of: {', '.join(cols)}.")
        if src in (None, ""):
            mapping[canon] = None
            continue
        if src not in info.header:
            raise LiftboardError(
                f"{info.name} has no column {src!r} to map to {canon}; its columns are: "
                f"{', '.join(info.header[:30])}."
            )
        for other, s in mapping.items():
            if s == src and other != canon:
                mapping[other] = None  # the user's choice wins over a guess
        mapping[canon] = src
    seen: dict[str, str] = {}
    for canon, src in mapping.items():
        if src is None:
            continue
        if src in seen:
            raise LiftboardError(
                f"The column {src!r} of {info.name} is mapped to both {seen[src]} and {canon}; map it once."
            )
        seen[src] = canon
    required = CANONICAL[kind]["required"]
    generated = {"feedback_id"}  # generated from the load id and row number when the file has none
    missing = [c for c in required if mapping.get(c) is None and not (kind == "feedback" and c in generated)]
    names_experiment = "experiment" in canonical_columns(kind) and kind in EXPERIMENT_KINDS
    if names_experiment and mapping.get("experiment") is None:
        if experiment is None or not experiment.strip():
            raise LiftboardError(
                f"{info.name} has no experiment column; name the experiment it holds (--experiment NAME on "
                "the command line, or the Experiment name box on the Data page)."
            )
        missing = [c for c in missing if c != "experiment"]
    if missing:
        raise LiftboardError(
            f"{info.name} has no column mapped to {missing[0]}, which {'an' if kind[0] in 'aeiou' else 'a'} {kind} file needs; "
            f"choose its column in the {missing[0]} box under Column mapping on the Data page (on the command "
            f"line: --map {missing[0]}=COLUMN)."
        )
    if (
        kind == "feedback"
        and mapping.get("prediction_id") is None
        and (mapping.get("user_id") is None or mapping.get("timestamp") is None)
    ):
        raise LiftboardError(
            f"{info.name} needs a prediction_id column, or both user_id and timestamp, to link feedback "
            "to predictions; map them."
        )
    return mapping


def extra_names(kind: str, info: FileInfo, mapping: dict[str, str | None]) -> dict[str, str]:
    """Unmapped source column -> the name it is stored under (kept unless it clashes with a canonical name)."""
    mapped = {s for s in mapping.values() if s}
    taken = {c.lower() for c in canonical_columns(kind)}
    index = pandas_index(info)
    out: dict[str, str] = {}
    for i, h in enumerate(info.header):
        if h in mapped or (i == 0 and index is not None):
            continue
        name = h.strip()
        while name.lower() in taken or name.lower().startswith("__lb_"):
            name = f"{name}_src"
        taken.add(name.lower())
        out[h] = name
    return out
