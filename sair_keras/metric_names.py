"""Names of the ranking metrics, shared by the configs, the model and the reports (no
TensorFlow here: the command line checks a configuration before TensorFlow loads).

`hr_K`, `ndcg_K`: sampled (the target among the user's fixed negatives, the paper's
protocol); `full_hr_K`, `full_ndcg_K`: full catalog (the target among every item the user
has not interacted with before it). See `ranking.py`.
"""

from __future__ import annotations

KINDS = ("hr", "ndcg")
CUTOFFS = (5, 10, 20)
FULL_CUTOFFS = (10, 20)
FULL_PREFIX = "full_"
POPULARITY_PREFIX = "popularity_"
OVER_POPULARITY_SUFFIX = "_over_popularity"
SAMPLED_METRIC_NAMES = tuple(f"{m}_{k}" for m in KINDS for k in CUTOFFS)
FULL_METRIC_NAMES = tuple(f"{FULL_PREFIX}{m}_{k}" for m in KINDS for k in FULL_CUTOFFS)
METRIC_NAMES = SAMPLED_METRIC_NAMES + FULL_METRIC_NAMES


def metric_name(kind: str, k: int, catalog: bool, popularity: bool = False) -> str:
    """`hr_10`, `full_ndcg_10`, `popularity_full_hr_20`, …"""
    return f"{POPULARITY_PREFIX if popularity else ''}{FULL_PREFIX if catalog else ''}{kind}_{k}"


def parse_metric_name(name: str) -> tuple[str, int, bool]:
    """`full_ndcg_10` → ("ndcg", 10, True); ValueError for a name that is not one of the
    ranking metrics (`hr_K`, `ndcg_K`, `full_hr_K`, `full_ndcg_K`, K >= 1)."""
    catalog = name.startswith(FULL_PREFIX)
    kind, _, k = name.removeprefix(FULL_PREFIX).partition("_")
    if kind not in KINDS or not k.isdigit() or int(k) < 1:
        raise ValueError(
            f"unknown ranking metric {name!r}; expected hr_K, ndcg_K, full_hr_K or full_ndcg_K, "
            f"e.g. one of {', '.join(METRIC_NAMES)}"
        )
    return kind, int(k), catalog


def evaluated_metric_names(*extra: str) -> tuple[str, ...]:
    """`METRIC_NAMES` plus `extra` names (e.g. a gate metric at another cutoff), once each."""
    return tuple(dict.fromkeys((*METRIC_NAMES, *extra)))
