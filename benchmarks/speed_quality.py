"""Does a speed change keep quality? Validation full_ndcg_10 after 20 epochs, before and after.

  # at the code before the change, then at the code after it (each in its own checkout):
  python benchmarks/quality.py --dataset ml-1m --variants sair --seeds 0 1 2 \\
      --max-epochs 20 --patience 20 --results benchmarks/results/speed_quality_<NAME>.json
  python benchmarks/speed_quality.py --runs before after

Reads `benchmarks/results/speed_quality_<NAME>.json` for each name (quality.py results of
the same configuration, 20 epochs, no early stop) and writes
`benchmarks/results/speed_quality.json`: per name, every seed's validation full_ndcg_10 at
the last epoch, their mean and sample std (ddof=1), and each name's difference from the
first in units of the larger std.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def summarize(name: str) -> dict:
    runs = json.loads((RESULTS / f"speed_quality_{name}.json").read_text())["runs"]
    runs = [r for r in runs if r["variant"] != "popularity"]
    configs = {
        json.dumps([r["variant"], r["model_config"], r["train_config"]["epochs"]]) for r in runs
    }
    if len(configs) != 1:
        raise SystemExit(f"speed_quality_{name}.json holds more than one configuration")
    values = {r["seed"]: r["val_full_ndcg_10"][-1] for r in runs}
    scores = np.array(list(values.values()))
    return {
        "variant": runs[0]["variant"],
        "epochs": len(runs[0]["val_full_ndcg_10"]),
        "val_full_ndcg_10_last_epoch": {str(s): v for s, v in sorted(values.items())},
        "mean": round(float(scores.mean()), 4),
        "std": round(float(scores.std(ddof=1)), 4) if len(scores) > 1 else None,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", nargs="+", default=["before", "after"])
    args = p.parse_args()
    out = {name: summarize(name) for name in args.runs}
    first = out[args.runs[0]]
    for name in args.runs[1:]:
        spread = max(first["std"] or 0.0, out[name]["std"] or 0.0)
        difference = out[name]["mean"] - first["mean"]
        out[name]["difference_from_" + args.runs[0]] = round(difference, 4)
        out[name]["difference_in_larger_stds"] = round(difference / spread, 2) if spread else None
    path = RESULTS / "speed_quality.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
