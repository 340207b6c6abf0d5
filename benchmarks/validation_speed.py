"""Validation speed on ML-1M: the interest head at every position or at the last only.

  python benchmarks/validation_speed.py [--variants sasrec sair] [--rounds 5]

Ingests `../shared/data/ml-1m` (never copied) and scores the 6,040 validation histories
(max_len 150, batch 512 as in quality.py, hidden 64, L=10, K=3, untrained weights with a
live head) against their target and 100 negatives, two ways, taking turns round by round:

- `every_position`: `model(item_seq)[:, -1, :]`, the head run at all 150 positions and the
  last row kept (what validation did before the head was cut to the last position);
- `last_position`: `model.last_position(item_seq)`, the head at the last position only
  (the encoder and the interaction layer still see every position).

Reports the median seconds per pass of each (the first, tracing, pass is not timed), their
ratio, and the largest difference between the two sets of scores. Writes
`benchmarks/results/validation_speed.json`.
"""

from __future__ import annotations

import sair_keras  # noqa: E402, F401  (Keras 2: before TensorFlow is imported)
from pipeline import console  # noqa: E402

# Before the libraries that warn on import: their noise is not for the console.
console.quiet_environment(verbose=False)

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from speed_common import (  # noqa: E402
    describe_defaults,
    environment,
    ingested_ml1m,
    ml1m_parser,
    write_results,
)


def _scorer(model, way: str):
    """A traced `batch → [B, 1 + M]` scores of `[target, negatives…]`, the user vector
    computed `way` (see the module docstring)."""
    import tensorflow as tf

    from sair_keras import features

    @tf.function
    def scores(batch):
        item_seq = tf.cast(batch[features.ITEM_SEQ], tf.int64)
        target = tf.reshape(tf.cast(batch[features.TARGET], tf.int64), [-1, 1])
        candidates = tf.concat([target, tf.cast(batch[features.NEGATIVES], tf.int64)], axis=1)
        if way == "every_position":
            user = model(item_seq, training=False)[:, -1, :]
        else:
            user = model.last_position(item_seq, training=False)
        return model.score(user, candidates)

    return scores


def measure(outputs, variants: list[str], rounds: int) -> dict:
    import tensorflow as tf

    from sair_keras import data
    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig
    from sair_keras.model import build_model

    ds = data.eval_dataset(
        data.split_pattern(outputs.examples_dir, "eval"),
        data.EVAL_BATCH_SIZE,
        ModelConfig().max_len,
    ).cache()
    catalog = Catalog.load(outputs.vocabulary_dir)
    out = {}
    for variant in variants:
        tf.keras.utils.set_random_seed(0)
        model = build_model(catalog, ModelConfig(variant=variant, num_interests=10, top_k=3))
        if model.aggregation is not None:  # the head's last layer starts at zero
            w2 = model.aggregation.w2
            w2.assign(tf.random.stateless_normal(w2.shape, seed=[1, 2], stddev=0.1))

        ways = {way: _scorer(model, way) for way in ("every_position", "last_position")}
        seconds: dict[str, list[float]] = {w: [] for w in ways}
        outputs_by_way: dict[str, np.ndarray] = {}
        for _ in range(rounds + 1):  # the first round traces
            for way, fn in ways.items():
                start = time.perf_counter()
                got = [fn(batch).numpy() for batch in ds]
                seconds[way].append(time.perf_counter() - start)
                outputs_by_way[way] = np.concatenate(got)
        every = float(np.median(seconds["every_position"][1:]))
        last = float(np.median(seconds["last_position"][1:]))
        out[variant] = {
            "every_position_seconds": round(every, 3),
            "last_position_seconds": round(last, 3),
            "speedup": round(every / last, 3),
            "max_abs_score_difference": float(
                np.max(np.abs(outputs_by_way["every_position"] - outputs_by_way["last_position"]))
            ),
            "histories": int(outputs_by_way["last_position"].shape[0]),
            "rounds_timed": rounds,
        }
        print(f"{variant}: {json.dumps(out[variant])}", flush=True)
    return out


def main() -> int:
    p = ml1m_parser(__doc__, "validation_speed.json")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds, after one untimed")
    p.add_argument("--note", default="", help="conditions of the run, stored with it")
    args = p.parse_args()
    with ingested_ml1m(args.shared_data) as outputs:
        results = measure(outputs, args.variants, args.rounds)
    from sair_keras.data import EVAL_BATCH_SIZE

    results["environment"] = environment(
        f"ML-1M validation, batch {EVAL_BATCH_SIZE}; the model of {describe_defaults()}",
        note=args.note,
    )
    write_results(args.results, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
