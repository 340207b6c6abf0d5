"""Summaries of quality runs over seeds (numpy only: the results page uses it too)."""

from __future__ import annotations

import numpy as np


def summarize(runs: list[dict]) -> dict:
    summary: dict = {}
    for variant in dict.fromkeys(r["variant"] for r in runs):
        mine = [r for r in runs if r["variant"] == variant]
        metrics = [k for k in mine[0]["test"] if k != "users"]
        summary[variant] = {
            "test": {
                m: {
                    "mean": round(float(np.mean([r["test"][m] for r in mine])), 4),
                    "std": round(float(np.std([r["test"][m] for r in mine])), 4),
                }
                for m in metrics
            },
            "runs": len(mine),
        }
        if "train_wall_s" in mine[0]:
            summary[variant]["train_wall_s"] = round(
                float(np.mean([r["train_wall_s"] for r in mine])), 1
            )
            summary[variant]["best_epoch"] = [r["best_epoch"] for r in mine]
            reached = [
                r["seconds_to_val_hr10_0.82"]
                for r in mine
                if r.get("seconds_to_val_hr10_0.82") is not None
            ]
            # Mean over the runs that reached it; how many did is beside it.
            summary[variant]["seconds_to_hr10_0.82"] = (
                round(float(np.mean(reached)), 1) if reached else None
            )
            summary[variant]["runs_reaching_hr10_0.82"] = len(reached)
            # The same in epochs: comparable across machines and CPU contention.
            epochs = [_first_epoch_at(r.get("val_hr_10", []), 0.82) for r in mine]
            epochs = [e for e in epochs if e is not None]
            summary[variant]["epochs_to_hr10_0.82"] = (
                round(float(np.mean(epochs)), 1) if epochs else None
            )
    return summary


def _first_epoch_at(curve: list[float], level: float) -> int | None:
    return next((i + 1 for i, v in enumerate(curve) if v >= level), None)
