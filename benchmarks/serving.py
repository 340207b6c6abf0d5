"""Serving latency of the exported SAIR model: the `recommend` signature, loaded in a fresh
process as TF Serving loads it (no TF Serving binary here: its own overhead is not counted).

  python benchmarks/serving.py                          # trains an ML-1M model briefly first
  python benchmarks/serving.py --saved-model sair_output/serving/sair/<version>

Without `--saved-model`, ingests `../shared/data/ml-1m` (never copied), trains the `sair`
variant with the paper's ML-1M settings for `--epochs` epochs (latency does not depend on
how well it is trained) and exports it. Then a fresh process times, after a warm-up,
`--requests` single requests (one history of 150 raw ids, top-10 over the 3,706-item
catalog, seen items excluded): `p50_ms`, `p99_ms`; and batches of 64 histories:
`batch64_rps` (histories per second). Writes `benchmarks/results/serving.json`.
"""

from __future__ import annotations

import os

import sair_keras  # noqa: E402, F401  (Keras 2: before TensorFlow is imported)
from pipeline import console  # noqa: E402

# Before the libraries that warn on import: their noise is not for the console.
console.quiet_environment(verbose=False)

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from speed_common import environment  # noqa: E402

TIMER = textwrap.dedent("""
    import json, os, sys, time
    import sair_keras  # Keras 2: before TensorFlow is imported
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    model_dir, history_len, requests, batches = sys.argv[1], *map(int, sys.argv[2:5])
    start = time.perf_counter()
    recommend = tf.saved_model.load(model_dir).signatures["recommend"]
    load_s = time.perf_counter() - start
    rows = open(sys.argv[5]).read().splitlines()[2:]  # rows 0 and 1: [PAD], [UNK]
    items = [row.split("\\t")[1] for row in rows]
    rng = np.random.default_rng(0)
    def histories(n):
        return tf.constant([list(rng.choice(items, history_len, replace=False)) for _ in range(n)])
    singles = [histories(1) for _ in range(50)]
    for h in singles[:20]:
        out = recommend(history=h)
    n_out = int(out["item_ids"].shape[1])
    latencies = []
    for i in range(requests):
        h = singles[i % len(singles)]
        t = time.perf_counter()
        recommend(history=h)["item_ids"].numpy()
        latencies.append(time.perf_counter() - t)
    batch = histories(64)
    for _ in range(3):
        recommend(history=batch)
    t = time.perf_counter()
    for _ in range(batches):
        recommend(history=batch)["item_ids"].numpy()
    batch_s = time.perf_counter() - t
    ms = np.array(latencies) * 1000
    print(json.dumps({
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "max_ms": round(float(ms.max()), 2),
        "batch64_rps": round(64 * batches / batch_s, 1),
        "batch64_ms": round(1000 * batch_s / batches, 2),
        "requests": requests,
        "batches": batches,
        "history_len": history_len,
        "top_n": n_out,
        "catalog_items": len(items),
        "load_s": round(load_s, 2),
    }))
""")


def train_and_export(shared_data: Path, work: Path, epochs: int) -> tuple[str, str]:
    import tensorflow as tf
    from quality import ingest

    from sair_keras import data, export, features, train
    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig, TrainConfig
    from sair_keras.model import build_model

    outputs, _ = ingest("ml-1m", shared_data, work / "ml-1m")
    tf.keras.utils.set_random_seed(0)
    catalog = Catalog.load(outputs.vocabulary_dir)
    model_config = ModelConfig(variant="sair", num_interests=10, top_k=3)
    model = build_model(catalog, model_config)
    config = TrainConfig(epochs=epochs, patience=epochs)
    split = lambda s: data.split_pattern(outputs.examples_dir, s)  # noqa: E731
    train.fit(
        model,
        data.train_dataset(split("train"), config.batch_size, model_config.max_len),
        data.eval_dataset(split("eval"), data.EVAL_BATCH_SIZE, model_config.max_len),
        config,
        verbose=0,
    )
    model_dir = str(work / "serving" / "1")
    export.export_serving_model(model, catalog, model_dir, top_n=10)
    return model_dir, os.path.join(outputs.vocabulary_dir, features.ITEM_VOCAB_FILE)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--saved-model", help="a pushed model folder (with --items)")
    p.add_argument("--items", help="its items.tsv (the vocabulary), with --saved-model")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--batches", type=int, default=50)
    p.add_argument("--shared-data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--results", default=str(ROOT / "benchmarks/results/serving.json"))
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.saved_model:
            if not args.items:
                p.error("--saved-model needs --items (the model's items.tsv)")
            model_dir, items, source = args.saved_model, args.items, args.saved_model
        else:
            model_dir, items = train_and_export(Path(args.shared_data), Path(tmp), args.epochs)
            source = f"sair on ML-1M (L=10, K=3, max_len 150, hidden 64), {args.epochs} epochs"
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                TIMER,
                model_dir,
                "150",
                str(args.requests),
                str(args.batches),
                items,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["model"] = source
    result["environment"] = environment(
        "tf.saved_model.load in a fresh process, the `recommend` signature called "
        "directly (what TF Serving runs, without its RPC layer); goal p99_ms < 20",
        load_average_after=[round(v, 2) for v in os.getloadavg()],
    )
    path = Path(args.results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
