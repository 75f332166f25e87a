"""The tag taxonomy and reviewers' tags on feedback items, every change audited, stale writes refused."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.errors import LiftboardError
from analytics.feedback.filtering import FeedbackFilter, selection
from analytics.feedback.items import ITEMS, ensure_items
from analytics.feedback.items import serialised as _serialised
from analytics.workspace import REVIEW_ACTIONS, Actor, Workspace, require

TAG_ACTION = "review.tag"


@dataclass(frozen=True)
class Tag:
    tag_id: int
    name: str
    description: str
    retired: bool


@dataclass(frozen=True)
class TagEdit:
    """The tags a reviewer wants on one item, and the item version they saw when they loaded it."""

    feedback_id: str
    tags: tuple[str, ...]
    expected_version: int


@dataclass(frozen=True)
class WriteResult:
    changed: int  # items whose tags changed (one audit row each)
    unchanged: int  # items selected whose tags were already as asked


# -- taxonomy ---------------------------------------------------------------------------------------
def list_tags(ws: Workspace, *, include_retired: bool = False) -> list[Tag]:
    """Tags by name; retired ones only when asked (pickers hide them, items keep them)."""
    rows = ws.query(
        "SELECT tag_id, name, coalesce(description, ''), retired FROM lb_tags "
        "WHERE ? OR NOT retired ORDER BY lower(name)",
        [include_retired],
        purpose="the list tags query",
    )
    return [Tag(int(r[0]), r[1], r[2], bool(r[3])) for r in rows]


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise LiftboardError("A tag name cannot be blank; type a short name such as 'wrong'.")
    if len(name) > 60:
        raise LiftboardError(f"The tag name {name[:20]!r}… is longer than 60 characters; use a shorter name.")
    if ";" in name:
        raise LiftboardError(
            f"The tag name {name!r} contains ';', which separates tags in exports; remove it."
        )
    return name


def get_tag(ws: Workspace, name: str) -> Tag:
    """A tag by name (case-insensitive), retired or not; an unknown name is a LiftboardError."""
    row = ws.query(
        "SELECT tag_id, name, coalesce(description, ''), retired FROM lb_tags WHERE lower(name) = lower(?)",
        [" ".join(str(name).split())],
        purpose="the get tag query",
    )
    if not row:
        known = ", ".join(t.name for t in list_tags(ws)) or "none yet"
        raise LiftboardError(f"There is no tag {name!r}; add it to the taxonomy first (tags: {known}).")
    r = row[0]
    return Tag(int(r[0]), r[1], r[2], bool(r[3]))


def add_tag(ws: Workspace, name: str, actor: Actor | None, description: str = "") -> Tag:
    """Add a tag (admins only); names are unique ignoring case."""
    who = _acting(actor, "edit_taxonomy")
    name = _clean_name(name)
    with _serialised(ws), ws.transaction() as cur:
        if cur.execute("SELECT count(*) FROM lb_tags WHERE lower(name) = lower(?)", [name]).fetchone()[0]:
            raise LiftboardError(f"A tag named {name!r} already exists; choose another name or rename it.")
        tag_id = int(cur.execute("SELECT nextval('lb_tag_seq')").fetchone()[0])
        cur.execute(
            "INSERT INTO lb_tags VALUES (?, ?, ?, false, now()::TIMESTAMP)",
            [tag_id, name, description or None],
        )
        ws.audit(cur, who, "tag.add", f"tag:{tag_id}", None, {"name": name, "description": description})
    return Tag(tag_id, name, description, False)


def rename_tag(ws: Workspace, name: str, new_name: str, actor: Actor | None) -> Tag:
    """Rename a tag (admins only); its id stays, so every item keeps it, and the rename is audited."""
    who = _acting(actor, "edit_taxonomy")
    new_name = _clean_name(new_name)
    with _serialised(ws), ws.transaction() as cur:
        tag = get_tag(ws, name)
        clash = cur.execute(
            "SELECT count(*) FROM lb_tags WHERE lower(name) = lower(?) AND tag_id <> ?",
            [new_name, tag.tag_id],
        ).fetchone()[0]
        if clash:
            raise LiftboardError(f"A tag named {new_name!r} already exists; choose another name.")
        cur.execute("UPDATE lb_tags SET name = ? WHERE tag_id = ?", [new_name, tag.tag_id])
        ws.audit(cur, who, "tag.rename", f"tag:{tag.tag_id}", {"name": tag.name}, {"name": new_name})
    return Tag(tag.tag_id, new_name, tag.description, tag.retired)


def retire_tag(ws: Workspace, name: str, actor: Actor | None, *, retired: bool = True) -> Tag:
    """Retire (or restore) a tag (admins only): hidden from pickers and new tagging, kept on its items."""
    who = _acting(actor, "edit_taxonomy")
    with _serialised(ws), ws.transaction() as cur:
        tag = get_tag(ws, name)
        cur.execute("UPDATE lb_tags SET retired = ? WHERE tag_id = ?", [retired, tag.tag_id])
        ws.audit(
            cur,
            who,
            "tag.retire" if retired else "tag.restore",
            f"tag:{tag.tag_id}",
            {"retired": tag.retired},
            {"retired": retired},
        )
    return Tag(tag.tag_id, tag.name, tag.description, retired)


def tag_history(ws: Workspace, name: str) -> pd.DataFrame:
    """A tag's audit history (add, renames, retire), oldest first."""
    tag = get_tag(ws, name)
    return ws.query_df(
        "SELECT at_time, actor, action, before, after FROM lb_audit WHERE target = ? ORDER BY audit_id",
        [f"tag:{tag.tag_id}"],
        purpose="the tag history query",
    )


# -- reviewers' tags --------------------------------------------------------------------------------
def reviewer_name(name: str | None) -> str:
    """A reviewer's name, trimmed; blank is refused (every change must say who made it)."""
    name = " ".join(str(name or "").split())
    if not name:
        raise LiftboardError("Tell us who you are first: type your name (it goes into the audit trail).")
    return name


def _acting(actor: Actor | None, action: str) -> str:
    """The actor's name for the audit trail, once their role is checked for the action."""
    return reviewer_name(require(actor, action).name)


def _ids(ws: Workspace, names: Sequence[str], *, allow_retired: bool) -> list[int]:
    out = []
    for n in names:
        tag = get_tag(ws, n)
        if tag.retired and not allow_retired:
            raise LiftboardError(
                f"The tag {tag.name!r} is retired; restore it in the taxonomy to use it again."
            )
        out.append(tag.tag_id)
    return sorted(set(out))


def current_audit_id(ws: Workspace) -> int:
    """A token for "what I loaded": the latest audit id. Bulk writes refuse items changed after it."""
    return int(
        ws.scalar("SELECT coalesce(max(audit_id), 0) FROM lb_audit", purpose="the current audit id query")
    )


def item_version(ws: Workspace, feedback_id: str) -> int:
    """The item's version: 0 if never tagged, +1 on every tag change by any reviewer."""
    return int(
        ws.scalar(
            "SELECT coalesce(max(version), 0) FROM lb_reviews WHERE feedback_id = ?",
            [feedback_id],
            purpose="the item version query",
        )
    )


def _state_sql(table: str) -> str:
    """Current state of the items listed in ``table`` (column feedback_id) for the reviewer (param 1, 2)."""
    return f"""
        SELECT feedback_id, max(version) AS item_version,
               any_value(tag_ids) FILTER (WHERE reviewer = ?) AS mine,
               bool_or(reviewer = ?) AS existed
        FROM lb_reviews WHERE feedback_id IN (SELECT feedback_id FROM {table}) GROUP BY feedback_id
    """  # table is our own temp name


def _write(cur: duckdb.DuckDBPyConnection, ch: str, reviewer: str, *, record_empty: bool) -> WriteResult:
    """Apply the changes in temp table ``ch`` (one MERGE) and write one audit row per changed item.

    With ``record_empty`` a first review that sets no tags is still written ("none of the tags applies",
    which counts for agreement); bulk actions leave untouched items alone.
    """
    total = int(cur.execute(f"SELECT count(*) FROM {ch}").fetchone()[0])
    keep = " AND existed" if record_empty else ""
    cur.execute(f"DELETE FROM {ch} WHERE old_tags = new_tags{keep}")
    changed = int(cur.execute(f"SELECT count(*) FROM {ch}").fetchone()[0])
    if changed:
        names = (
            "(SELECT map(list(tag_id), list(name)) AS m FROM lb_tags) tm"  # names at the time, for the audit
        )
        cur.execute(
            f"""
            INSERT INTO lb_audit
            SELECT nextval('lb_audit_seq'), now()::TIMESTAMP, ?, '{TAG_ACTION}', c.feedback_id,
                   json_object('tag_ids', c.old_tags, 'tags', list_sort(list_transform(c.old_tags, lambda x: tm.m[x])),
                               'version', c.item_version)::VARCHAR,
                   json_object('tag_ids', c.new_tags, 'tags', list_sort(list_transform(c.new_tags, lambda x: tm.m[x])),
                               'version', c.item_version + 1)::VARCHAR
            FROM {ch} c CROSS JOIN {names} ORDER BY c.feedback_id
            """,
            [reviewer],
        )
        cur.execute(
            f"""
            MERGE INTO lb_reviews r USING {ch} c ON r.feedback_id = c.feedback_id AND r.reviewer = ?
            WHEN MATCHED THEN UPDATE SET tag_ids = c.new_tags, version = c.item_version + 1,
                                         updated_at = now()::TIMESTAMP
            WHEN NOT MATCHED THEN INSERT VALUES (c.feedback_id, ?, c.new_tags, c.item_version + 1, now()::TIMESTAMP)
            """,
            [reviewer, reviewer],
        )
    cur.execute(f"DROP TABLE {ch}")
    return WriteResult(changed=changed, unchanged=total - changed)


def _stale(item: str) -> LiftboardError:
    return LiftboardError(f"Someone else tagged item {item} since you loaded it; reload to see their tags.")


def save_tags(ws: Workspace, actor: Actor | None, edits: Sequence[TagEdit]) -> WriteResult:
    """Set the reviewer's (the actor's, an editor or admin) tags on several items in one transaction.

    Each edit carries the item version the reviewer saw; if any item changed since, nothing is written
    and a LiftboardError names the item. Tags already retired may stay on an item but not be added.
    All or nothing.
    """
    reviewer = _acting(actor, "tag")
    if not edits:
        raise LiftboardError("No items selected; pick at least one item to tag.")
    ids = [e.feedback_id for e in edits]
    if len(set(ids)) != len(ids):
        raise LiftboardError("The same item appears twice in one save; reload the queue and try again.")
    wanted = {e.feedback_id: _ids(ws, e.tags, allow_retired=True) for e in edits}
    retired = {t.tag_id: t.name for t in list_tags(ws, include_retired=True) if t.retired}
    ch = f"lb_tmp_{uuid.uuid4().hex}"
    ensure_items(ws)  # the items known to exist: on a Spark source the feedback table is not local
    try:
        with _serialised(ws), ws.transaction() as cur:
            cur.execute(
                f"CREATE TEMP TABLE {ch}_in (feedback_id VARCHAR, new_tags BIGINT[], expected BIGINT)"
            )
            cur.executemany(
                f"INSERT INTO {ch}_in VALUES (?, ?, ?)",
                [[e.feedback_id, wanted[e.feedback_id], int(e.expected_version)] for e in edits],
            )
            missing = cur.execute(
                f"SELECT feedback_id FROM {ch}_in WHERE feedback_id NOT IN (SELECT feedback_id FROM {ITEMS}) LIMIT 1"
            ).fetchall()
            if missing:
                raise LiftboardError(f"There is no feedback item {missing[0][0]!r}; reload the queue.")
            cur.execute(
                f"""
                CREATE TEMP TABLE {ch} AS
                SELECT i.feedback_id, i.expected, coalesce(s.item_version, 0) AS item_version,
                       coalesce(s.existed, false) AS existed,
                       list_sort(coalesce(s.mine, []::BIGINT[])) AS old_tags, i.new_tags
                FROM {ch}_in i LEFT JOIN ({_state_sql(f"{ch}_in")}) s USING (feedback_id)
                """,
                [reviewer, reviewer],
            )
            stale = cur.execute(
                f"SELECT feedback_id FROM {ch} WHERE item_version <> expected ORDER BY 1 LIMIT 1"
            ).fetchall()
            if stale:
                raise _stale(stale[0][0])
            # A retired tag may stay where it was, not be newly added.
            for fid, old, new in cur.execute(f"SELECT feedback_id, old_tags, new_tags FROM {ch}").fetchall():
                added = set(new) - set(old)
                for t in sorted(added & set(retired)):
                    raise LiftboardError(
                        f"The tag {retired[t]!r} is retired; restore it in the taxonomy to add it to item {fid}."
                    )
            cur.execute(f"DROP TABLE {ch}_in")
            return _write(cur, ch, reviewer, record_empty=True)
    except duckdb.TransactionException:
        raise _stale(ids[0]) from None


def tag_item(
    ws: Workspace, feedback_id: str, tags: Sequence[str], actor: Actor | None, expected_version: int
) -> WriteResult:
    """Set one item's tags for the actor (see ``save_tags``)."""
    return save_tags(ws, actor, [TagEdit(feedback_id, tuple(tags), expected_version)])


def _bulk_table(
    cur: duckdb.DuckDBPyConnection,
    ws: Workspace,
    ch: str,
    flt: FeedbackFilter,
    reviewer: str,
    add: list[int],
    remove: list[int],
) -> None:
    sel = selection(ws, flt)
    cur.execute(f"CREATE TEMP TABLE {ch}_sel AS SELECT DISTINCT feedback_id FROM ({sel.sql}) s", sel.params)
    cur.execute(
        f"""
        CREATE TEMP TABLE {ch} AS
        SELECT i.feedback_id, coalesce(s.item_version, 0) AS item_version, coalesce(s.existed, false) AS existed,
               list_sort(coalesce(s.mine, []::BIGINT[])) AS old_tags,
               list_sort(list_distinct(list_concat(
                   list_filter(coalesce(s.mine, []::BIGINT[]), lambda x: NOT list_contains(?::BIGINT[], x)),
                   ?::BIGINT[]))) AS new_tags
        FROM {ch}_sel i LEFT JOIN ({_state_sql(f"{ch}_sel")}) s USING (feedback_id)
        """,
        [remove, add, reviewer, reviewer],
    )
    cur.execute(f"DROP TABLE {ch}_sel")


def bulk_preview(
    ws: Workspace, flt: FeedbackFilter, reviewer: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> WriteResult:
    """How many items of the selection a bulk action would change (shown before the user confirms)."""
    reviewer = reviewer_name(reviewer)
    add_ids, remove_ids = _ids(ws, add, allow_retired=False), _ids(ws, remove, allow_retired=True)
    ch = f"lb_tmp_{uuid.uuid4().hex}"
    ensure_items(ws)
    cur = ws.cursor()
    try:
        _bulk_table(cur, ws, ch, flt, reviewer, add_ids, remove_ids)
        total, changed = cur.execute(
            f"SELECT count(*), count(*) FILTER (WHERE old_tags <> new_tags) FROM {ch}"
        ).fetchone()
        cur.execute(f"DROP TABLE {ch}")
    finally:
        cur.close()
    return WriteResult(changed=int(changed), unchanged=int(total - changed))


def bulk_tag(
    ws: Workspace,
    flt: FeedbackFilter,
    actor: Actor | None,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    expected_count: int | None = None,
    seen_audit_id: int | None = None,
) -> WriteResult:
    """Add and/or remove tags on every item of a filtered selection, in one transaction.

    Set-based: one statement builds the changes, one MERGE writes them, one INSERT … SELECT audits them.
    ``expected_count`` is the selection size the user confirmed; ``seen_audit_id`` the token from when they
    loaded the page (``current_audit_id``). If the selection grew or shrank, or any of its items was tagged
    by someone since, nothing is written. The actor must be an editor or admin.
    """
    reviewer = _acting(actor, "tag")
    if not add and not remove:
        raise LiftboardError("Choose at least one tag to add or remove.")
    add_ids, remove_ids = _ids(ws, add, allow_retired=False), _ids(ws, remove, allow_retired=True)
    if set(add_ids) & set(remove_ids):
        raise LiftboardError("A tag cannot be both added and removed in one bulk action; pick one.")
    ch = f"lb_tmp_{uuid.uuid4().hex}"
    ensure_items(ws)  # before the transaction: a stale item table is rebuilt in its own
    try:
        with _serialised(ws), ws.transaction() as cur:
            _bulk_table(cur, ws, ch, flt, reviewer, add_ids, remove_ids)
            n = int(cur.execute(f"SELECT count(*) FROM {ch}").fetchone()[0])
            if n == 0:
                raise LiftboardError("The selection is empty; widen the filters before a bulk action.")
            if expected_count is not None and n != expected_count:
                raise LiftboardError(
                    f"The selection now holds {n} items, not the {expected_count} you confirmed; reload and confirm again."
                )
            if seen_audit_id is not None:
                hit = cur.execute(
                    f"SELECT target FROM lb_audit WHERE audit_id > ? AND action = '{TAG_ACTION}' "
                    f"AND target IN (SELECT feedback_id FROM {ch}) ORDER BY audit_id LIMIT 1",
                    [int(seen_audit_id)],
                ).fetchall()
                if hit:
                    raise _stale(hit[0][0])
            return _write(cur, ch, reviewer, record_empty=False)
    except duckdb.TransactionException:
        raise LiftboardError(
            "Someone else tagged items of this selection while it was being saved; reload and try again."
        ) from None


# -- the audit trail ------------------------------------------------------------------------------
def audit_trail(
    ws: Workspace, *, actor: str | None = None, target: str | None = None, limit: int = 200, offset: int = 0
) -> pd.DataFrame:
    """Tag and taxonomy changes, newest first: who, when, what, before, after."""
    where = ["(" + " OR ".join(["action LIKE ?"] * len(REVIEW_ACTIONS)) + ")"]
    params: list[object] = list(REVIEW_ACTIONS)
    if actor:
        where.append("actor = ?")
        params.append(actor)
    if target:
        where.append("target = ?")
        params.append(target)
    return ws.query_df(
        f"SELECT audit_id, at_time, actor, action, target, before, after FROM lb_audit WHERE {' AND '.join(where)} "
        "ORDER BY audit_id DESC LIMIT ? OFFSET ?",
        [*params, int(limit), int(offset)],
        purpose="the audit trail query",
    )
