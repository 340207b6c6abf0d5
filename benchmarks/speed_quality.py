"""Does a speed change keep quality? Validation full_ndcg_10 after 20 epochs, before and after.

  # at the code before the change, then at the code after it (each in its own checkout):
  python benchmarks/quality.py --dataset ml-1m --variants sair --seeds 0 1 2 \\
      --max-epochs 20 --patience 20 --results BEFORE.json      # (AFTER.json)
  python benchmarks/speed_quality.py --before BEFORE.json --after AFTER.json

Reads the two quality.py results files (one configuration, 20 epochs, no early stop) and
writes `benchmarks/results/speed_quality.json`, validation only: per side, every seed's
validation full_ndcg_10 at the last epoch, their mean and sample std (ddof=1), and the
difference after − before in units of the larger std. The runs' test scores stay out: no
configuration is chosen here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def summarize(path: str) -> dict:
    runs = json.loads(Path(path).read_text())["runs"]
    runs = [r for r in runs if r["variant"] != "popularity"]
    configs = {
        json.dumps([r["variant"], r["model_config"], r["train_config"]["epochs"]]) for r in runs
    }
    if len(configs) != 1:
        raise SystemExit(f"{path} holds more than one configuration")
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
    p.add_argument("--before", required=True, help="quality.py results at the earlier code")
    p.add_argument("--after", required=True, help="quality.py results at the changed code")
    args = p.parse_args()
    out = {"before": summarize(args.before), "after": summarize(args.after)}
    spread = max(out["before"]["std"] or 0.0, out["after"]["std"] or 0.0)
    difference = out["after"]["mean"] - out["before"]["mean"]
    out["after"]["difference_from_before"] = round(difference, 4)
    out["after"]["difference_in_larger_stds"] = round(difference / spread, 2) if spread else None
    out["command"] = (
        "python benchmarks/quality.py --dataset ml-1m --variants sair --seeds 0 1 2 "
        "--max-epochs 20 --patience 20 --results {BEFORE,AFTER}.json (at each code); "
        "python benchmarks/speed_quality.py --before BEFORE.json --after AFTER.json"
    )
    path = RESULTS / "speed_quality.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
