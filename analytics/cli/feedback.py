"""Feedback commands: `feedback` summary, `queue`, `tag`, `bulk-tag`, `tags` (taxonomy), `export-feedback`."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any

from analytics.errors import LiftboardError
from analytics.plain import plain

if TYPE_CHECKING:  # the engine loads when a command runs, so --help and argument errors stay quick
    from analytics import feedback as fb
    from analytics.workspace import Workspace


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--experiment", help="experiment whose variants label feedback (default: the first by name)"
    )
    p.add_argument(
        "--signal", action="append", default=[], help="accept, reject, correct, rating (repeatable)"
    )
    p.add_argument("--variant", action="append", default=[], help="only these variants (repeatable)")
    p.add_argument(
        "--model-version", action="append", default=[], help="only these model versions (repeatable)"
    )
    p.add_argument("--since", type=dt.date.fromisoformat, help="first day, YYYY-MM-DD (UTC)")
    p.add_argument("--until", type=dt.date.fromisoformat, help="last day, inclusive, YYYY-MM-DD (UTC)")
    p.add_argument("--score-min", type=float, help="lowest prediction score")
    p.add_argument("--score-max", type=float, help="highest prediction score")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from analytics import feedback as fb

    p = sub.add_parser("feedback", parents=[common], help="what users told us: signal rates, tags, agreement")
    _filters(p)
    p.add_argument(
        "--by", choices=fb.GROUP_BY, default="model_version", help="split rates by (default %(default)s)"
    )
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("queue", parents=[common], help="list feedback items waiting for review")
    _filters(p)
    p.add_argument("--status", choices=fb.STATUSES, default="untagged", help="default %(default)s")
    p.add_argument("--reviewer", help="untagged by this reviewer (default: by anyone)")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--offset", type=int, default=0)
    p.set_defaults(func=cmd_queue)

    p = sub.add_parser("tag", parents=[common], help="set a reviewer's tags on feedback items")
    p.add_argument("items", nargs="+", metavar="ITEM", help="feedback ids")
    p.add_argument("--tags", nargs="*", default=[], help="tag names (none clears the reviewer's tags)")
    p.add_argument("--reviewer", required=True, help="who is tagging (goes into the audit trail)")
    p.add_argument("--version", type=int, help="the item version you saw; refused if it changed since")
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("bulk-tag", parents=[common], help="add or remove tags on a filtered selection")
    _filters(p)
    p.add_argument("--status", choices=fb.STATUSES, default="all", help="default %(default)s")
    p.add_argument("--add", nargs="*", default=[], help="tags to add")
    p.add_argument("--remove", nargs="*", default=[], help="tags to remove")
    p.add_argument("--reviewer", required=True, help="who is tagging (goes into the audit trail)")
    p.add_argument(
        "--yes", action="store_true", help="apply; without it only say how many items would change"
    )
    p.set_defaults(func=cmd_bulk_tag)

    p = sub.add_parser("tags", parents=[common], help="the tag taxonomy: list, add, rename, retire, restore")
    p.add_argument(
        "action", nargs="?", default="list", choices=["list", "add", "rename", "retire", "restore", "history"]
    )
    p.add_argument("names", nargs="*", help="NAME (add, retire, restore, history) or OLD NEW (rename)")
    p.add_argument("--description", default="", help="for add")
    p.add_argument("--actor", help="who makes the change (default: your login name)")
    p.set_defaults(func=cmd_tags)

    p = sub.add_parser("export-feedback", parents=[common], help="export tagged feedback to .csv or .parquet")
    _filters(p)
    p.add_argument("--out", required=True, help="output file, .csv or .parquet")
    p.set_defaults(func=cmd_export)


def _open(args: argparse.Namespace, *, write: bool = False) -> Workspace:
    from analytics.workspace import open_workspace

    return open_workspace(args.db, create=False, read_only=not write)


def _flt(ws: Workspace, args: argparse.Namespace, **extra: Any) -> fb.FeedbackFilter:
    from analytics import feedback as fb
    from analytics.workspace import experiment_names

    exp = args.experiment or fb.default_experiment(ws)
    if args.experiment and args.experiment not in experiment_names(ws):
        raise LiftboardError(
            f"There is no experiment {args.experiment!r}; known: {', '.join(experiment_names(ws))}."
        )
    return fb.FeedbackFilter(
        experiment=exp, signals=tuple(args.signal), variants=tuple(args.variant),
        model_versions=tuple(args.model_version), start=args.since, end=args.until,
        score_min=args.score_min, score_max=args.score_max, **extra,
    )  # fmt: skip


def _num(x: float) -> float | None:
    return None if x is None else plain(float(x), digits=6)


def _plain(key: str, v: Any) -> Any:
    if key == "tags":
        return [str(t) for t in v]
    if hasattr(v, "item"):  # numpy scalars become plain numbers
        v = v.item()
    return _num(v) if isinstance(v, float) else v


def cmd_feedback(args: argparse.Namespace) -> dict[str, Any]:
    from analytics import feedback as fb

    ws = _open(args)
    try:
        flt = _flt(ws, args)
        s = fb.summary(ws, flt)
        rates = fb.rates(ws, flt, by=args.by, period=None).frame()
        ks = fb.kappas(ws, flt)
    finally:
        ws.close()
    doc = {
        "experiment": flt.experiment,
        "total": s.total,
        "by_signal": s.by_signal,
        "acceptance": {"rate": _num(s.acceptance.rate), "ci": [_num(s.acceptance.lo), _num(s.acceptance.hi)]},
        "progress": {"tagged": s.progress.tagged, "total": s.progress.total},
        "unmatched_prediction_ids": {"unmatched": s.unmatched[0], "with_id": s.unmatched[1]},
        "rates": [
            {
                "group": r.group,
                "signal": r.signal,
                "k": int(r.k),
                "n": int(r.n),
                "rate": _num(r.rate),
                "ci": [_num(r.lo), _num(r.hi)],
            }
            for r in rates.itertuples()
        ],  # fmt: skip
        "agreement": [
            {
                "reviewers": [k.reviewer_a, k.reviewer_b],
                "tag": k.tag,
                "items": k.table.n,
                "kappa": _num(k.kappa),
                "ci": [_num(k.ci[0]), _num(k.ci[1])],
            }
            for k in ks
        ],  # fmt: skip
    }
    if not args.json:
        print(fb.summary_sentence(s))
        print("Signals: " + ", ".join(f"{k} {v:,}" for k, v in s.by_signal.items()))
        for r in doc["rates"]:
            lo, hi = r["ci"]
            if r["rate"] is not None:
                print(
                    f"  {r['group']:<14} {r['signal']:<8} {r['rate']:7.1%}  [{lo:.1%}, {hi:.1%}]  n={r['n']:,}"
                )
        for k in ks:
            if k.tag == "(all tags)":
                print(f"Agreement {k.reviewer_a} vs {k.reviewer_b}: κ = {k.kappa:.2f} ({fb.describe(k.kappa)}) "
                      f"over {k.table.n:,} item-tag judgements")  # fmt: skip
        if s.unmatched[0]:
            print(f"Warning: {s.unmatched[0]:,} of {s.unmatched[1]:,} feedback rows match no prediction.")
    return doc


def cmd_queue(args: argparse.Namespace) -> dict[str, Any]:
    from analytics import feedback as fb

    ws = _open(args)
    try:
        page = fb.queue(
            ws,
            _flt(ws, args, status=args.status, reviewer=args.reviewer),
            limit=args.limit,
            offset=args.offset,
        )
    finally:
        ws.close()
    rows = page.rows.assign(ts=page.rows.ts.astype(str))
    items = [{k: _plain(k, v) for k, v in rec.items()} for rec in rows.to_dict(orient="records")]
    doc = {"total": page.total, "offset": page.offset, "items": items}
    if not args.json:
        print(f"{page.total:,} items match; showing {len(rows)} from {page.offset}.")
        for r in rows.itertuples():
            tag_txt = ", ".join(r.tags) or "-"
            print(f"  {r.feedback_id}  {r.ts}  {r.signal:<8} {r.variant or '-':<8} {r.model_version or '-':<8} "
                  f"v{r.version}  {tag_txt}")  # fmt: skip
    return doc


def cmd_tag(args: argparse.Namespace) -> dict[str, Any]:
    from analytics import feedback as fb
    from analytics.workspace import cli_actor

    ws = _open(args, write=True)
    try:
        if args.version is not None and len(args.items) > 1:
            raise LiftboardError("--version applies to one item; tag items one at a time to pass it.")
        edits = [
            fb.TagEdit(
                i, tuple(args.tags), args.version if args.version is not None else fb.item_version(ws, i)
            )
            for i in args.items
        ]
        res = fb.save_tags(ws, cli_actor(args.reviewer), edits)
    finally:
        ws.close()
    if not args.json:
        print(
            f"Tagged {res.changed} item(s) as {', '.join(args.tags) or '(no tags)'}; {res.unchanged} already were."
        )
    return {"changed": res.changed, "unchanged": res.unchanged}


def cmd_bulk_tag(args: argparse.Namespace) -> dict[str, Any]:
    from analytics import feedback as fb
    from analytics.workspace import cli_actor

    ws = _open(args, write=True)
    try:
        flt = _flt(ws, args, status=args.status, reviewer=args.reviewer if args.status != "all" else None)
        n = fb.count(ws, flt)
        if n == 0:
            raise LiftboardError("The selection is empty; widen the filters before a bulk action.")
        if not args.add and not args.remove:
            raise LiftboardError("Choose at least one tag with --add or --remove.")
        if not args.yes:
            pre = fb.bulk_preview(ws, flt, args.reviewer, add=args.add, remove=args.remove)
            if not args.json:
                print(f"{pre.changed:,} of {n:,} selected items would change; run again with --yes to apply.")
            return {"applied": False, "selected": n, "would_change": pre.changed}
        res = fb.bulk_tag(
            ws, flt, cli_actor(args.reviewer), add=args.add, remove=args.remove, expected_count=n
        )
    finally:
        ws.close()
    if not args.json:
        print(f"Changed {res.changed:,} of {n:,} selected items (one audit row each).")
    return {"applied": True, "selected": n, "changed": res.changed, "unchanged": res.unchanged}


def cmd_tags(args: argparse.Namespace) -> dict[str, Any]:
    from analytics import feedback as fb
    from analytics.workspace import cli_actor

    need = {"list": 0, "add": 1, "rename": 2, "retire": 1, "restore": 1, "history": 1}[args.action]
    if len(args.names) != need:
        raise LiftboardError(f"`tags {args.action}` takes {need} name(s); got {len(args.names)}.")
    edit = args.action in ("add", "rename", "retire", "restore")
    ws = _open(args, write=edit)
    try:
        if args.action == "history":
            hist = fb.tag_history(ws, args.names[0]).astype(str)
            if not args.json:
                print(hist.to_string(index=False))
            return {"history": hist.to_dict(orient="records")}
        if args.action == "add":
            fb.add_tag(ws, args.names[0], cli_actor(args.actor), args.description)
        elif args.action == "rename":
            fb.rename_tag(ws, args.names[0], args.names[1], cli_actor(args.actor))
        elif args.action in ("retire", "restore"):
            fb.retire_tag(ws, args.names[0], cli_actor(args.actor), retired=args.action == "retire")
        listed = fb.list_tags(ws, include_retired=True)
    finally:
        ws.close()
    doc = {
        "tags": [
            {"tag_id": t.tag_id, "name": t.name, "description": t.description, "retired": t.retired}
            for t in listed
        ]
    }
    if not args.json:
        for t in listed:
            print(f"  {t.tag_id:>3}  {t.name}{'  (retired)' if t.retired else ''}  {t.description}")
    return doc


def cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    from analytics import feedback as fb

    ws = _open(args)
    try:
        n = fb.export_tagged(ws, _flt(ws, args), args.out)
    finally:
        ws.close()
    if not args.json:
        print(f"Wrote {n:,} tagged feedback rows to {args.out} (text cells safe for spreadsheets).")
    return {"out": args.out, "rows": n}
