"""How much the sampled metrics depend on the pool the 100 negatives are drawn from.

  python benchmarks/candidate_pool.py --dataset ml-1m --export-dir EXPORT_DIR

Our protocol (docs/MODEL.md §7) draws each test user's 100 negatives from the items that occur
in the interactions. The paper ran in RecBole, which numbers every item of the item file
too, rated or not, and draws its negatives from all of them: the paper's ML-1M has 3,883
items, the movies in `movies.dat`, of which 3,706 were ever rated. A movie nobody rated is
only ever a negative in training, so it ranks below nearly every target: each one drawn is
a negative the model beats for free.

For every exported run in `benchmarks/results/<dataset>.json` (its model rebuilt and
checked against the record: `exported.load_run_model`), this redraws the test negatives
several times from two pools with the same uniform sampler, and writes the mean and std of
the test metrics over the draws to `benchmarks/results/candidate_pool_<dataset>.json`:

- `rated`: the items that occur in the interactions (our protocol, other draws);
- `item_table`: every item of the item file (RecBole's pool). An unrated candidate counts
  as ranked below the target: this bounds the pool's effect from above.

The spread over the `rated` draws is also the noise the fixed draw of our protocol adds to a
single model's sampled metrics.

The output accumulates: runs found in `--export-dir` replace their earlier entries and the
file's other runs are kept, so each machine can add the exports it holds. A file written
with another number of draws or negatives is refused rather than mixed.
"""

from __future__ import annotations

import sair_keras  # noqa: E402, F401  (Keras 2: before TensorFlow is imported)
from pipeline import console  # noqa: E402

# Before the libraries that warn on import: their noise is not for the console.
console.quiet_environment(verbose=False)

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterable, Mapping  # noqa: E402
from pathlib import Path  # noqa: E402

import exported  # noqa: E402
import numpy as np  # noqa: E402
import quality  # noqa: E402
import quality_summary  # noqa: E402
from quality_summary import to_json  # noqa: E402

POOLS = ("rated", "item_table")
UNRATED = -1


def pool_indices(pool_ids: Iterable[str], item_index: Mapping[str, int]) -> np.ndarray:
    """The model's item index of every item of a pool, `UNRATED` for items it has none of."""
    return np.array([item_index.get(i, UNRATED) for i in pool_ids], dtype=np.int64)


def sampled_rank(
    scores: np.ndarray,
    target: int,
    seen: np.ndarray,
    pool: np.ndarray,
    num_negatives: int,
    rng: np.random.Generator,
) -> tuple[int, int]:
    """(pessimistic rank of `target`, unrated negatives drawn) for one user.

    Args:
      scores: `[V]` the model's score of every item index.
      target: the held-out item's index.
      seen: item indices of the user's whole history (the target among them).
      pool: item index of every item of the pool (`pool_indices`).
      num_negatives: negatives drawn, uniformly without replacement, from the pool items
        the user has not interacted with.
    An unrated negative (`UNRATED`) ranks below the target; a rated one ranks above it when
    it scores at least as high (ties count against the target, as in `sair_keras.ranking`).
    """
    eligible = pool[~np.isin(pool, seen)]
    if eligible.size < num_negatives:
        raise ValueError(f"only {eligible.size} unseen pool items for {num_negatives} negatives")
    negatives = rng.choice(eligible, size=num_negatives, replace=False)
    rated = negatives[negatives != UNRATED]
    rank = int(np.sum(scores[rated] >= scores[target]))
    return rank, int(num_negatives - rated.size)


def histories(source, min_rating: float) -> dict[str, set[str]]:
    """user → the raw ids of every item the user interacted with (valid rows only)."""
    from components.sequence_gen import sources

    (cols,) = sources.preflight(source)
    out: dict[str, set[str]] = {}
    for row in sources.iter_interactions(source, sources.Shard(0), cols, min_rating):
        if row.rejection is None:
            out.setdefault(row.user, set()).add(row.interaction.item)
    return out


def item_table_ids(source) -> list[str]:
    from components.sequence_gen import sources

    return [
        r[0] for r in sources.iter_item_table(source.items, source.id_type) if isinstance(r, tuple)
    ]


def pool_metrics(ranks: np.ndarray) -> dict[str, float]:
    from sair_keras import train

    out = train.rank_metrics(ranks, (10,))
    out.pop("users")
    return out


def mean_std(draws: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and sample std (ddof=1; None for one draw) of each metric over the draws."""
    return {k: quality_summary.mean_std(d[k] for d in draws) for k in draws[0]}


def run_key(run: Mapping) -> tuple[str, int, str]:
    return run["variant"], run["seed"], run.get("recipe", "default")


def check_comparable(previous: Mapping | None, settings: Mapping) -> None:
    """Refuse an earlier output of another dataset, number of negatives or draws: its runs
    would not be comparable with new ones."""
    for key, value in settings.items():
        if previous is not None and previous.get(key) != value:
            raise ValueError(
                f"the output holds runs with {key}={previous.get(key)!r}, not {value!r}: "
                "pass another --out"
            )


def merge_results(previous: Mapping | None, result: dict) -> dict:
    """`result` with the runs of `previous` it did not re-evaluate, in `previous`'s order."""
    if previous is None:
        return result
    check_comparable(previous, {k: result[k] for k in ("dataset", "negatives", "draws")})
    new = {run_key(r): r for r in result["runs"]}
    kept = [new.pop(run_key(r), r) for r in previous["runs"]]
    return {
        **result,
        "runs": kept + list(new.values()),
        "wall_s": round(previous.get("wall_s", 0.0) + result["wall_s"], 1),
    }


def evaluate_pools(model, test_ds, seen_by_user, pools, draws, num_negatives) -> dict:
    """Per pool: the test metrics of each of `draws` redraws, and their mean and std."""
    from components.sequence_gen.transforms import stable_seed
    from sair_keras import features

    per_user = []
    for batch in test_ds:
        scores = model.catalog_scores(batch[features.ITEM_SEQ]).numpy()
        users = [u.decode() for u in batch[features.USER_ID].numpy()]
        targets = batch[features.TARGET].numpy().reshape(-1)
        per_user.extend(zip(users, targets.tolist(), scores, strict=True))
    out = {}
    for name, pool in pools.items():
        results, unrated = [], []
        for draw in range(draws):
            ranks = []
            for user, target, scores in per_user:
                rng = np.random.default_rng(stable_seed(draw, name, user))
                rank, n_unrated = sampled_rank(
                    scores, target, seen_by_user[user], pool, num_negatives, rng
                )
                ranks.append(rank)
                unrated.append(n_unrated)
            results.append(pool_metrics(np.array(ranks)))
        out[name] = {
            "draws": results,
            **mean_std(results),
            "unrated_negatives_per_user": round(float(np.mean(unrated)), 2),
        }
    return out


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dataset", choices=quality.DATASETS, required=True)
    p.add_argument("--export-dir", required=True, help="where quality.py exported the runs")
    p.add_argument("--draws", type=int, default=5)
    p.add_argument("--shared-data", default=str(quality.ROOT.parent / "shared" / "data"))
    p.add_argument("--results", help="default benchmarks/results/<dataset>.json")
    p.add_argument("--out", help="default benchmarks/results/candidate_pool_<dataset>.json")
    args = p.parse_args()
    results_dir = quality.ROOT / "benchmarks" / "results"
    results_path = Path(args.results or results_dir / f"{args.dataset}.json")
    out_path = Path(args.out or results_dir / f"candidate_pool_{args.dataset}.json")
    recorded = json.loads(results_path.read_text())
    previous = json.loads(out_path.read_text()) if out_path.exists() else None

    from components.sequence_gen import movielens
    from components.sequence_gen.config import DataConfig
    from sair_keras import data, features
    from sair_keras.catalog import Catalog

    data_config = DataConfig()
    check_comparable(
        previous,
        {"dataset": args.dataset, "negatives": data_config.num_eval_negatives, "draws": args.draws},
    )
    source = movielens.source_config(args.dataset, Path(args.shared_data) / args.dataset)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        outputs, _ = quality.ingest(args.dataset, Path(args.shared_data), Path(tmp))
        catalog = Catalog.load(outputs.vocabulary_dir)
        item_index = {raw: i for i, raw in enumerate(catalog.item_ids)}
        rated_ids = catalog.item_ids[features.FIRST_ITEM_INDEX :]
        table_ids = item_table_ids(source)
        pools = {
            "rated": pool_indices(rated_ids, item_index),
            "item_table": pool_indices(table_ids, item_index),
        }
        seen_by_user = {
            u: pool_indices(items, item_index)
            for u, items in histories(source, data_config.min_rating).items()
        }
        test_ds = data.eval_dataset(
            data.split_pattern(outputs.examples_dir, "test"),
            data.EVAL_BATCH_SIZE,
            data_config.max_len,
        )
        runs = []
        for run in recorded["runs"]:
            if "model_config" not in run:
                continue  # popularity: no model
            recipe = run.get("recipe", "default")
            train = run["train_config"]
            name = quality.export_name(
                args.dataset,
                run["variant"],
                run["seed"],
                recipe,
                epochs=train["epochs"],
                patience=train["patience"],
            )
            model_dir = Path(args.export_dir) / name
            if not model_dir.exists():
                print(f"skipping {name}: no export in {args.export_dir}", flush=True)
                continue
            model = exported.load_run_model(outputs, run, str(model_dir), test_ds)
            found = evaluate_pools(
                model, test_ds, seen_by_user, pools, args.draws, data_config.num_eval_negatives
            )
            runs.append(
                {
                    "variant": run["variant"],
                    "seed": run["seed"],
                    "recipe": recipe,
                    "recorded": {k: run["test"][k] for k in ("hr_10", "ndcg_10")},
                    **found,
                }
            )
            print(name, json.dumps({k: found[k]["hr_10"] for k in POOLS}), flush=True)
    result = {
        "dataset": args.dataset,
        "negatives": data_config.num_eval_negatives,
        "draws": args.draws,
        "pool_sizes": {
            "rated": int(pools["rated"].size),
            "item_table": int(pools["item_table"].size),
            "item_table_unrated": int(np.sum(pools["item_table"] == UNRATED)),
        },
        "runs": runs,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    result = merge_results(previous, result)
    out_path.write_text(to_json(result))
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
