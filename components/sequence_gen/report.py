"""The data report: the paper's Table I statistics plus the accounting of every row read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from components.sequence_gen import fileio, sources
from components.sequence_gen.vocabulary import Vocabulary

REPORT_FILE = "data_report.json"

REJECTION_REASONS = (
    sources.INVALID_ENCODING,
    sources.WRONG_FIELD_COUNT,
    sources.MISSING_ID,
    sources.NON_NUMERIC_ID,
    sources.NON_NUMERIC_TIME,
    sources.NON_NUMERIC_RATING,
    sources.NAN_RATING,
    sources.RATING_BELOW_MIN,
    sources.DUPLICATE,
    sources.ITEM_BELOW_MIN,
    sources.USER_BELOW_MIN,
)


class IngestionError(RuntimeError):
    """The input was read but fails a data rule (empty, too many rejected rows)."""


def build_report(
    *,
    source_name: str,
    rows_read: int,
    rejected: Iterable[tuple[str, int]],
    first_rejected: Iterable[sources.Rejection],
    length_counts: Mapping[int, int],
    vocab: Vocabulary,
    split_counts: Mapping[str, int],
    train_only: Iterable[tuple[str, int]],
    item_rows_rejected: Iterable[tuple[str, int]],
    max_len: int,
    exclude_seen: bool = True,
    max_len_setting: int | str | None = None,
    training_windows: str = "last",
    users_without_sampled_negatives: Mapping[str, int] | None = None,
    num_eval_negatives: int | None = None,
    refused: Iterable[tuple[str, int]] = (),
    k_core_removed: Iterable[tuple[str, int]] = (),
    k_core: Mapping[str, Any] | None = None,
    split: Mapping[str, Any] | None = None,
    not_held_out: Iterable[tuple[str, int]] = (),
) -> dict[str, Any]:
    rows_rejected = dict.fromkeys(REJECTION_REASONS, 0)
    rows_rejected.update(dict(rejected))
    for reason, n in k_core_removed:
        rows_rejected[reason] += n
    users = sum(length_counts.values())
    actions = sum(n * c for n, c in length_counts.items())
    items = vocab.num_items
    density = actions / (users * items) if users and items else 0.0
    return {
        "source": source_name,
        # The paper's Table I.
        "users": users,
        "items": items,
        "actions": actions,
        "categories": vocab.num_categories,
        "avg_length": round(actions / users, 2) if users else 0.0,
        "sparsity": round(100.0 * (1.0 - density), 2),  # percent, as in the paper
        # Accounting: rows_read == rows_kept + sum(rows_rejected.values()).
        "rows_read": rows_read,
        "rows_kept": actions,
        "rows_rejected": rows_rejected,
        "first_rejected_rows": [
            {"reason": r.reason, "location": r.location, "text": r.text} for r in first_rejected
        ],
        "examples": dict(split_counts),
        "users_train_only": dict(train_only),
        # How the held-out cases were chosen: {"protocol": "leave_one_out"}, or the temporal
        # split with its cutoffs as times ("val_cutoff_time", "test_cutoff_time").
        "split": dict(split or {"protocol": "leave_one_out"}),
        # Temporal split: users without a validation or test case, by reason.
        "users_not_held_out": dict(not_held_out),
        # k-core filtering: its minimums and whether the result is stable (None: off).
        "k_core": dict(k_core) if k_core else None,
        # Users refused for training (reason → count): a training sequence (under
        # training_windows "all", a window) that holds every item leaves no negative to draw
        # and gives no training example; a user counts once. They are still evaluated.
        "users_refused_for_training": dict(refused),
        # Held-out users with fewer unseen items than num_eval_negatives, per split: ranked
        # on the full catalog only, left out of the sampled metrics.
        "users_without_sampled_negatives": dict(users_without_sampled_negatives or {}),
        "num_eval_negatives": num_eval_negatives,
        "items_without_category": vocab.items_without_category,
        # Catalog items no kept interaction mentions (DataConfig.item_catalog "item_table").
        "items_without_interactions": vocab.items_without_interactions,
        "max_len": max_len,
        # "auto" when the ingestion chose max_len from the lengths (the 99th percentile).
        "max_len_setting": max_len if max_len_setting is None else max_len_setting,
        "exclude_seen": exclude_seen,
        "sequences_truncated": sum(c for n, c in length_counts.items() if n > max_len),
        # "last": their older items are never a training target; "all": trained in windows.
        "training_windows": training_windows,
        "max_sequence_length": max(length_counts, default=0),
        "item_rows_rejected": dict(item_rows_rejected),
    }


def check_report(report: Mapping[str, Any], max_rejected_fraction: float) -> None:
    """Raises IngestionError when the input is empty or too much of it was rejected."""
    read = report["rows_read"]
    rejected = sum(report["rows_rejected"].values())
    first = "\n".join(
        f"  {r['location']}: {r['reason']}: {r['text']!r}" for r in report["first_rejected_rows"]
    )
    if read == 0:
        raise IngestionError(f"empty input: no data rows were read from {report['source']}")
    if report["rows_kept"] == 0:
        raise IngestionError(
            f"every one of the {read} rows read was rejected ({_reasons(report)}); "
            f"first bad rows:\n{first}"
        )
    k_core = report.get("k_core")
    if k_core and not k_core["stable"]:
        raise IngestionError(
            f"k-core filtering did not reach its fixed point in {k_core['rounds']} rounds "
            f"(min_user_interactions {k_core['min_user_interactions']}, "
            f"min_item_interactions {k_core['min_item_interactions']}): some kept users or "
            "items still have fewer interactions; lower the minimums or filter the log first"
        )
    filtered = sum(report["rows_rejected"].get(r, 0) for r in K_CORE_REASONS)
    rejected -= filtered  # removals the settings asked for are not bad rows
    if rejected / read > max_rejected_fraction:
        raise IngestionError(
            f"{rejected} of {read} rows rejected ({rejected / read:.1%} > max_rejected_fraction "
            f"{max_rejected_fraction:.1%}; {_reasons(report)}); first bad rows:\n{first}"
        )
    temporal = report.get("split", {}).get("protocol") == "temporal"
    empty = [s for s in ("eval", "test") if not report["examples"].get(s)]
    if temporal and empty:
        raise IngestionError(
            f"the temporal split left the {' and '.join(empty)} split empty "
            f"({report['split']}; users not held out: "
            f"{report['users_not_held_out']}): move the cutoffs so that both periods hold "
            "interactions of users with history before them"
        )
    if not report["examples"].get("test"):
        raise IngestionError(
            f"the test split is empty: none of the {report['users']} users has enough "
            "interactions to be held out (leave-one-out needs a training, a validation and a "
            f"test item; the longest history has {report.get('max_sequence_length', 0)}), so "
            "no model could be evaluated; give a log with longer user histories"
        )


K_CORE_REASONS = (sources.ITEM_BELOW_MIN, sources.USER_BELOW_MIN)


def _reasons(report: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in report["rows_rejected"].items() if v)


def write_report(report: Mapping[str, Any], path: str) -> None:
    fileio.write_text(path, json.dumps(report, indent=2))


def read_report(path: str) -> dict[str, Any]:
    return json.loads(fileio.read_text(path))


def _time_text(t: float) -> str:
    return str(int(t)) if float(t).is_integer() else str(t)


def format_table(report: Mapping[str, Any]) -> str:
    """The report as a readable two-column table."""
    rows: list[tuple[str, str]] = [
        ("source", str(report["source"])),
        ("users", f"{report['users']:,}"),
        ("items", f"{report['items']:,}"),
        ("actions", f"{report['actions']:,}"),
        ("categories", f"{report['categories']:,}"),
        ("avg length", f"{report['avg_length']:.1f}"),
        ("sparsity (%)", f"{report['sparsity']:.2f}"),
        ("rows read", f"{report['rows_read']:,}"),
        ("rows kept", f"{report['rows_kept']:,}"),
    ]
    for reason, n in report["rows_rejected"].items():
        if n:
            rows.append((f"rejected: {reason}", f"{n:,}"))
    if not any(report["rows_rejected"].values()):
        rows.append(("rows rejected", "0"))
    for split, n in report["examples"].items():
        rows.append((f"{split} examples", f"{n:,}"))
    for reason, n in report["users_train_only"].items():
        rows.append((f"train-only users: {reason}", f"{n:,}"))
    split = report.get("split", {"protocol": "leave_one_out"})
    if split["protocol"] == "temporal":
        rows.append(("split", "temporal"))
        rows.append(("validation from", _time_text(split["val_cutoff_time"])))
        rows.append(("test from", _time_text(split["test_cutoff_time"])))
        for reason, n in report.get("users_not_held_out", {}).items():
            rows.append((f"not held out: {reason}", f"{n:,}"))
    else:
        rows.append(("split", "leave-one-out"))
    if report.get("k_core"):
        k = report["k_core"]
        rows.append(
            ("k-core (users, items)", f"{k['min_user_interactions']}, {k['min_item_interactions']}")
        )
    for reason, n in report.get("users_refused_for_training", {}).items():
        rows.append((f"refused for training: {reason}", f"{n:,}"))
    for split, n in report.get("users_without_sampled_negatives", {}).items():
        if n:
            rows.append((f"{split} users without sampled negatives", f"{n:,}"))
    rows.append(("items without category", f"{report['items_without_category']:,}"))
    if report.get("items_without_interactions"):  # item_catalog "item_table"
        rows.append(("items without interactions", f"{report['items_without_interactions']:,}"))
    if report.get("max_len_setting") == "auto":
        rows.append(("max_len (auto: 99th percentile)", f"{report['max_len']:,}"))
    longer = f"sequences > max_len {report['max_len']}"
    if report["sequences_truncated"]:
        longer += (
            ", trained in windows"
            if report.get("training_windows") == "all"
            else ", older items not trained (training_windows: all)"
        )
    rows.append((longer, f"{report['sequences_truncated']:,}"))
    if "exclude_seen" in report:
        rows.append(("seen items excluded", "yes" if report["exclude_seen"] else "no"))
    width = max(len(k) for k, _ in rows)
    vwidth = max(len(v) for _, v in rows)
    line = "-" * (width + vwidth + 3)
    body = "\n".join(f"{k.ljust(width)}   {v.rjust(vwidth)}" for k, v in rows)
    return f"{line}\n{body}\n{line}"
