"""Adds the interest-head diagnostics to a benchmark run recorded before they existed.

  python benchmarks/diagnose_export.py --dataset ml-100k --variant sair --seed 0 \\
      --model .benchmark-models/ml-100k-sair-seed0

Rebuilds the run's model from its recorded config, reads the weights of the SavedModel that
`quality.py --export-dir` wrote for it, checks that it reproduces the run's recorded test
`hr_10` and `ndcg_10` (to 1e-6; else it refuses: not the same model), and writes
`head_share` and `head_ablation` (benchmarks/diagnostics.py) into that run of
`benchmarks/results/<dataset>.json`.
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
from pathlib import Path  # noqa: E402

import exported  # noqa: E402
import quality  # noqa: E402
from quality_summary import to_json  # noqa: E402


def find_run(runs: list[dict], variant: str, seed: int, recipe: str) -> dict:
    found = [
        r
        for r in runs
        if (r["variant"], r["seed"], r.get("recipe", "default")) == (variant, seed, recipe)
        and "test" in r
    ]
    if len(found) != 1:
        raise SystemExit(
            f"expected one recorded run {variant} seed {seed} ({recipe}), found {len(found)}"
        )
    return found[0]


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dataset", choices=quality.DATASETS, required=True)
    p.add_argument("--variant", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--recipe", default="default")
    p.add_argument("--model", required=True, help="the run's exported SavedModel")
    p.add_argument("--shared-data", default=str(quality.ROOT.parent / "shared" / "data"))
    p.add_argument("--results", help="default benchmarks/results/<dataset>.json")
    args = p.parse_args()
    results_path = Path(
        args.results or quality.ROOT / "benchmarks" / "results" / f"{args.dataset}.json"
    )
    run = find_run(
        json.loads(results_path.read_text())["runs"], args.variant, args.seed, args.recipe
    )

    import diagnostics

    from sair_keras import data
    from sair_keras.config import ModelConfig

    with tempfile.TemporaryDirectory() as tmp:
        outputs, _ = quality.ingest(args.dataset, Path(args.shared_data), Path(tmp))
        test_ds = data.eval_dataset(
            data.split_pattern(outputs.examples_dir, "test"),
            data.EVAL_BATCH_SIZE,
            ModelConfig.from_dict(run["model_config"]).max_len,
        )
        model = exported.load_run_model(outputs, run, args.model, test_ds)
        found = {
            "head_share": diagnostics.model_head_share(model, test_ds),
            "head_ablation": diagnostics.head_ablation(model, test_ds),
        }
    with quality.locked(results_path):
        result = json.loads(results_path.read_text())
        find_run(result["runs"], args.variant, args.seed, args.recipe).update(found)
        tmp_path = results_path.with_suffix(".json.tmp")
        tmp_path.write_text(to_json(result))
        tmp_path.replace(results_path)
    print(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
