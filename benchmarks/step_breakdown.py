"""Where a training step's time goes: the model against the objective, on ML-1M batches.

  python benchmarks/step_breakdown.py [--variants sasrec sair] [--batches 8] [--repeats 5]

Ingests `../shared/data/ml-1m` (never copied) and takes the first `--batches` training
batches. For each variant at the product's default configuration (`default`), times the
forward and backward pass of
- `model`: the network alone (`call`, every position; the gradient of a stand-in loss);
- `step`: the network and the training objective (`next_item_loss`), as `train_step` runs
  them, without the optimizer;
and, on the network's output for the same batches, the objective alone with the catalog
logits in float32 and in bfloat16 (`objective_seconds`). Each figure is the minimum over
`--repeats` passes over the batches (the first pass traces and is not timed), so a busy
machine inflates it less; run it with nothing else on the cores. `objective_share` is
`1 − model / step`. Writes `benchmarks/results/step_breakdown.json`.
"""

from __future__ import annotations

import os

import sair_keras  # noqa: E402, F401  (Keras 2: before TensorFlow is imported)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import experiments  # noqa: E402
from speed_common import environment, ingested_ml1m, ml1m_parser, write_results  # noqa: E402

CONFIGURATION = "default"


def _fastest(fn, batches, repeats: int) -> float:
    """The least seconds of `repeats` passes of `fn` over `batches` (after one untimed)."""
    for b in batches:
        fn(b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for b in batches:
            fn(b).numpy()
        best = min(best, time.perf_counter() - start)
    return best


def objective_seconds(model, batches, repeats: int) -> dict[str, float]:
    """Forward and backward seconds of the full-softmax objective on the network's output
    for `batches`, its catalog logits in float32 and in bfloat16 (the sums of logs and
    exponentials in float32 either way)."""
    import tensorflow as tf

    from sair_keras import features

    table = model.item_vectors()[features.FIRST_ITEM_INDEX :]
    inputs = []
    for b in batches:  # the real positions' outputs and next items, as the objective sees
        item_seq = tf.cast(b[features.ITEM_SEQ], tf.int64)
        previous = tf.pad(item_seq[:, :-1], [[0, 0], [1, 0]])
        real = tf.where((previous != features.PAD_INDEX) & (item_seq != features.PAD_INDEX))
        e = tf.gather_nd(model.user_vectors(model(previous)), real)
        inputs.append((tf.Variable(e), tf.gather_nd(item_seq, real)))
    table = tf.Variable(table)

    def timed(dtype):
        @tf.function
        def step(pair):
            e, positives = pair
            with tf.GradientTape() as tape:
                logits = tf.matmul(tf.cast(e, dtype), tf.cast(table, dtype), transpose_b=True)
                logits = tf.cast(logits, tf.float32)
                picked = tf.gather(logits, positives - features.FIRST_ITEM_INDEX, batch_dims=1)
                loss = tf.reduce_sum(tf.reduce_logsumexp(logits, axis=-1) - picked)
            grads = tape.gradient(loss, [e, table])
            return loss + tf.add_n([tf.reduce_sum(g) for g in grads]) * 0.0

        return _fastest(step, inputs, repeats)

    return {"float32": round(timed(tf.float32), 3), "bfloat16": round(timed(tf.bfloat16), 3)}


def breakdown(model, batches, repeats: int) -> dict:
    """`model`, `step` and `objective` seconds of one variant (module docstring)."""
    import tensorflow as tf

    from sair_keras import features

    variables = model.trainable_variables

    @tf.function
    def network(batch):
        with tf.GradientTape() as tape:
            e = model(tf.cast(batch[features.ITEM_SEQ], tf.int64), training=True)
            loss = tf.reduce_mean(tf.square(e))
        grads = tape.gradient(loss, variables)
        return loss + tf.add_n([tf.reduce_sum(g) for g in grads if g is not None]) * 0.0

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            loss = model.next_item_loss(batch[features.ITEM_SEQ], training=True)
        grads = tape.gradient(loss, variables)
        return loss + tf.add_n([tf.reduce_sum(g) for g in grads if g is not None]) * 0.0

    model_s = _fastest(network, batches, repeats)
    step_s = _fastest(step, batches, repeats)
    return {
        "configuration": CONFIGURATION,
        "training_loss": model.model_config.training_loss,
        "batches": len(batches),
        "items": int(sum(int(tf.reduce_sum(tf.sign(b[features.ITEM_SEQ]))) for b in batches)),
        "model_seconds": round(model_s, 3),
        "step_seconds": round(step_s, 3),
        "objective_share": round(1 - model_s / step_s, 3),
        "objective_seconds": objective_seconds(model, batches, repeats),
    }


def main() -> int:
    p = ml1m_parser(__doc__, "step_breakdown.json")
    p.add_argument("--batches", type=int, default=8, help="training batches timed")
    p.add_argument("--repeats", type=int, default=5, help="timed passes; the least counts")
    args = p.parse_args()
    import tensorflow as tf

    from sair_keras import data
    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig
    from sair_keras.model import build_model

    results = {}
    with ingested_ml1m(args.shared_data) as outputs:
        split = data.split_pattern(outputs.examples_dir, "train")
        batches = list(data.train_dataset(split, 256, 150, seed=0).take(args.batches))
        catalog = Catalog.load(outputs.vocabulary_dir)
        for variant in args.variants:
            tf.keras.utils.set_random_seed(0)
            settings = experiments.model_settings(CONFIGURATION)
            model = build_model(catalog, ModelConfig(**settings, variant=variant))
            results[variant] = breakdown(model, batches, args.repeats)
            print(f"{variant}: {results[variant]}", flush=True)
    results["environment"] = environment(
        "the first training batches of ML-1M, forward and backward, no optimizer",
        tf_threads={
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
    )
    write_results(args.results, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
