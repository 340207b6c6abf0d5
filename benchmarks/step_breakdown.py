"""Where a training step's time goes, on ML-1M batches.

  python benchmarks/step_breakdown.py [--variants sasrec sair] [--batches 8] [--repeats 3]

Ingests `../shared/data/ml-1m` (never copied) and takes the first `--batches` training
batches. For each variant at the product's default configuration (`default`):
- `forward_seconds`: the network and the training objective, forward only;
- `step_seconds`: the whole training step as `fit` runs it (`train_step`: forward,
  backward, Adam);
- `profile`: the step run under the TensorFlow profiler, its kernels' thread time summed
  by part of the step (`embedding`, `encoder`, `interest_head`, `objective`, `optimizer`)
  and by kernel type (the ten largest), each as a share of the total (kernels that run at
  the same time on the two executor threads each count their whole duration);
- `objective_seconds`: the full-softmax objective alone (forward and backward) on the
  network's output for the same batches, its catalog logits computed in float32 and in
  bfloat16 (the sums of logs and exponentials in float32 either way).
Each time is the least over `--repeats` passes over the batches after one untimed pass
(tracing), so a busy machine inflates it less; run it with nothing else on the cores.
Every timed function returns a value computed from every gradient, so no part of the
backward pass can be pruned from the graph. Writes `benchmarks/results/step_breakdown.json`.
"""

from __future__ import annotations

import sair_keras  # noqa: E402, F401  (Keras 2: before TensorFlow is imported)
from pipeline import console  # noqa: E402

# Before the libraries that warn on import: their noise is not for the console.
console.quiet_environment(verbose=False)

import collections  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterable  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import experiments  # noqa: E402
from speed_common import (  # noqa: E402
    describe_defaults,
    environment,
    ingested_ml1m,
    ml1m_parser,
    write_results,
)

CONFIGURATION = "default"
# The model's layers by part of the step (their names in SAIRModel).
PARTS = {
    "embedding": "embedding",
    "encoder": "encoder",
    "interest_relevance": "interest_head",
    "interest_interaction": "interest_head",
    "top_k_interest": "interest_head",
    "interest_aggregation": "interest_head",
}
TOP_KERNELS = 10


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


def _gradient_sum(loss, grads):
    """A scalar that depends on `loss` and on every gradient (a timed function returns it,
    so the graph keeps the whole backward pass)."""
    import tensorflow as tf

    total = tf.add_n([tf.reduce_sum(tf.convert_to_tensor(g)) for g in grads if g is not None])
    return tf.stack([loss, total])


def part_of(node: str, model_name: str) -> str:
    """The part of a training step a kernel of node `node` belongs to: the model's layers
    (`PARTS`), `optimizer` (Adam) or `objective` (the rest of `train_step`: the shift,
    the catalog logits and the loss); gradients count with their forward node."""
    path = node.removeprefix("gradient_tape/").split("/")
    if path[0] == model_name:
        return PARTS.get(path[1] if len(path) > 1 else "", "other")
    if path[0].startswith("Adam"):
        return "optimizer"
    return "objective"


def summarize_kernels(kernels: Iterable[tuple[str, str, float]], model_name: str) -> dict:
    """`(node, kernel type, seconds)` triples → thread seconds by part and by kernel type
    (the `TOP_KERNELS` largest), with their shares of the total."""
    parts: collections.Counter = collections.Counter()
    types: collections.Counter = collections.Counter()
    for node, kernel, seconds in kernels:
        parts[part_of(node, model_name)] += seconds
        types[kernel] += seconds
    total = sum(parts.values()) or 1.0

    def table(counter, items):
        return {k: {"seconds": round(v, 3), "share": round(v / total, 3)} for k, v in items}

    return {
        "thread_seconds": round(total, 3),
        "by_part": table(parts, sorted(parts.items(), key=lambda kv: -kv[1])),
        "by_kernel": table(types, types.most_common(TOP_KERNELS)),
    }


def profiled_kernels(fn, batches) -> list[tuple[str, str, float]]:
    """`fn` over `batches` under the TensorFlow profiler: `(node, kernel type, seconds)` of
    every kernel it ran on the CPU's compute threads."""
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for b in batches:
            fn(b).numpy()
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        space.ParseFromString(next(Path(logdir).rglob("*.xplane.pb")).read_bytes())
    kernels = []
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                node, _, kernel = name.rpartition(":")
                if node and not node.endswith(":"):  # "node:Kernel", not "Executor::Process"
                    kernels.append((node, kernel, event.duration_ps / 1e12))
    return kernels


def objective_seconds(model, batches, repeats: int) -> dict[str, float]:
    """Forward and backward seconds of the full-softmax objective on the network's output
    for `batches`, its catalog logits in float32 and in bfloat16 (the sums of logs and
    exponentials in float32 either way)."""
    import tensorflow as tf

    from sair_keras import features

    first = features.FIRST_ITEM_INDEX
    table = tf.Variable(model.item_vectors()[first:])
    inputs = []
    for b in batches:  # the real positions' outputs and next items, as the objective sees
        item_seq = tf.cast(b[features.ITEM_SEQ], tf.int64)
        previous = tf.pad(item_seq[:, :-1], [[0, 0], [1, 0]])
        real = tf.where((previous != features.PAD_INDEX) & (item_seq != features.PAD_INDEX))
        e = tf.gather_nd(model.user_vectors(model(previous)), real)
        inputs.append((tf.Variable(e), tf.gather_nd(item_seq, real)))

    def timed(dtype):
        @tf.function
        def step(pair):
            e, positives = pair
            with tf.GradientTape() as tape:
                logits = tf.matmul(tf.cast(e, dtype), tf.cast(table, dtype), transpose_b=True)
                logits = tf.cast(logits, tf.float32)
                picked = tf.reduce_sum(e * tf.gather(table, positives - first), axis=-1)
                loss = tf.reduce_sum(tf.reduce_logsumexp(logits, axis=-1) - picked)
            return _gradient_sum(loss, tape.gradient(loss, [e, table]))

        return _fastest(step, inputs, repeats)

    return {"float32": round(timed(tf.float32), 3), "bfloat16": round(timed(tf.bfloat16), 3)}


def breakdown(model, batches, repeats: int) -> dict:
    """The figures of one variant (module docstring). `model` must be compiled."""
    import tensorflow as tf

    from sair_keras import features

    @tf.function
    def forward(batch):
        return model.next_item_loss(batch[features.ITEM_SEQ], training=True)

    @tf.function
    def step(batch):
        return model.train_step({features.ITEM_SEQ: batch[features.ITEM_SEQ]})["loss"]

    forward_s = _fastest(forward, batches, repeats)
    step_s = _fastest(step, batches, repeats)
    return {
        "configuration": CONFIGURATION,
        "training_loss": model.model_config.training_loss,
        "batches": len(batches),
        "items": int(sum(int(tf.reduce_sum(tf.sign(b[features.ITEM_SEQ]))) for b in batches)),
        "forward_seconds": round(forward_s, 3),
        "step_seconds": round(step_s, 3),
        "profile": summarize_kernels(profiled_kernels(step, batches), model.name),
        "objective_seconds": objective_seconds(model, batches, repeats),
    }


def main() -> int:
    p = ml1m_parser(__doc__, "step_breakdown.json")
    p.add_argument("--batches", type=int, default=8, help="training batches timed")
    p.add_argument("--repeats", type=int, default=3, help="timed passes; the least counts")
    args = p.parse_args()
    import tensorflow as tf

    from sair_keras import data
    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig, TrainConfig
    from sair_keras.model import build_model
    from sair_keras.train import compile_model

    results = {}
    settings = experiments.model_settings(CONFIGURATION)
    train_config, max_len = TrainConfig(), ModelConfig(**settings).max_len
    with ingested_ml1m(args.shared_data) as outputs:
        split = data.split_pattern(outputs.examples_dir, "train")
        batches = data.train_dataset(split, train_config.batch_size, max_len, seed=0)
        batches = list(batches.take(args.batches))
        catalog = Catalog.load(outputs.vocabulary_dir)
        for variant in args.variants:
            tf.keras.utils.set_random_seed(0)
            model = build_model(catalog, ModelConfig(**settings, variant=variant))
            compile_model(model, train_config)
            results[variant] = breakdown(model, batches, args.repeats)
            print(f"{variant}: {results[variant]}", flush=True)
    results["environment"] = environment(
        "the first training batches of ML-1M, the product's defaults "
        f"({describe_defaults()}): the training step as fit runs it",
        tf_threads={
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
    )
    write_results(args.results, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
