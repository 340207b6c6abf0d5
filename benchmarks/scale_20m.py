"""Scale benchmark: an ML-20M-size synthetic log through every stage on this machine.

  python benchmarks/scale_20m.py [--work-dir DIR] [--stages ingest train ...]

Stages, each a child process whose whole process tree is sampled for resident memory
(`benchmarks/ingest.py`'s `measure`):
  synthesize  a seeded log of ~20 M interactions (138,000 users, 27,000 items, 20 genres)
  ingest      `pipeline_runner.py ingest` (DirectRunner, 2 worker processes)
  train       one epoch of `sair` (the paper's ML-20M L=20, K=8; the product's defaults),
              streaming the training TFRecords (never the whole dataset in memory), then
              the serving export
  evaluate    sampled and full-catalog hr/ndcg of the test split through the exported
              model's `ranks` signature (what the Evaluator runs), streamed in batches
  recommend   `pipeline_runner.py recommend`: top-10 for every user (TFRecord and CSV)
Writes `benchmarks/results/scale_20m.json`: per stage `wall_s` and `peak_rss_mb`.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import BEAM_ARGS, measure  # noqa: E402
from speed_common import describe_defaults, environment  # noqa: E402

STAGES = ("synthesize", "ingest", "train", "evaluate", "recommend")
L, K = 20, 8  # the paper's ML-20M interests


def stage_train(work: Path) -> dict:
    import tensorflow as tf

    from sair_keras import data, export
    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig, TrainConfig
    from sair_keras.model import build_model
    from sair_keras.train import EpochTimer, compile_model

    examples = work / "ingested" / "examples"
    tf.keras.utils.set_random_seed(0)
    catalog = Catalog.load(str(work / "ingested" / "vocabulary"))
    model_config, train_config = (
        ModelConfig(variant="sair", num_interests=L, top_k=K),
        TrainConfig(),
    )
    model = build_model(catalog, model_config)
    compile_model(model, train_config)
    timer = EpochTimer()
    history = model.fit(
        data.train_dataset(
            data.split_pattern(str(examples), "train"),
            train_config.batch_size,
            model_config.max_len,
        ),
        epochs=1,
        callbacks=[timer],
        verbose=0,
    )
    export.export_serving_model(model, catalog, str(work / "model"), top_n=10)
    return {
        "epoch_s": round(timer.epoch_seconds[0], 1),
        "ranking_loss": round(float(history.history["ranking_loss"][-1]), 4),
        "parameters": model.count_params(),
    }


def stage_evaluate(work: Path) -> dict:
    import numpy as np
    import tensorflow as tf

    from sair_keras import data, export, ranking, train

    ranks_fn = tf.saved_model.load(str(work / "model")).signatures[export.EVAL_SIGNATURE]
    files = tf.io.gfile.glob(data.split_pattern(str(work / "ingested" / "examples"), "test"))
    records = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(1024)
    ranks = []
    for batch in records:
        out = ranks_fn(examples=batch)[export.EVAL_SIGNATURE].numpy()
        ranks.append(out[:, [ranking.SAMPLED, ranking.CATALOG]])
    return {"test": train.ranks_to_metrics(np.concatenate(ranks))}


def run_stage(stage: str, work: Path) -> dict:
    py = sys.executable
    if stage == "synthesize":
        cmd = [py, "pipeline_runner.py", "synthesize", "--output", str(work / "log")]
        cmd += ["--users", "138000", "--items", "27000", "--categories", "20"]
        cmd += ["--mean-length", "145", "--seed", "20"]
    elif stage == "ingest":
        cmd = [py, "pipeline_runner.py", "ingest", "--dataset", "csv"]
        cmd += ["--data-path", str(work / "log" / "interactions.csv"), "--rating-column", "rating"]
        cmd += ["--id-type", "int", "--items-path", str(work / "log" / "items.csv")]
        cmd += ["--output", str(work / "ingested"), *BEAM_ARGS]
    elif stage == "recommend":
        cmd = [py, "pipeline_runner.py", "recommend", "--model", str(work / "model")]
        cmd += ["--examples", str(work / "ingested" / "examples")]
        cmd += ["--output", str(work / "recommendations"), *BEAM_ARGS]
    else:
        cmd = [py, __file__, "--run-stage", stage, "--work-dir", str(work)]
    result = measure(cmd, work / f"{stage}.log")
    details = work / f"{stage}.json"
    if details.exists():
        result.update(json.loads(details.read_text()))
    if stage == "ingest":
        report = json.loads((work / "ingested" / "data_report.json").read_text())
        result["data"] = {k: report[k] for k in ("users", "items", "actions")}
    if stage == "recommend":
        result["users"] = int((work / "recommendations" / "users.txt").read_text())
    return result


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    p.add_argument("--work-dir", help="keep the stages' outputs here (default: temporary)")
    p.add_argument("--run-stage", choices=("train", "evaluate"), help=argparse.SUPPRESS)
    p.add_argument("--results", default=str(ROOT / "benchmarks/results/scale_20m.json"))
    args = p.parse_args()
    if args.run_stage:  # inside the measured child process
        work = Path(args.work_dir)
        fn = stage_train if args.run_stage == "train" else stage_evaluate
        (work / f"{args.run_stage}.json").write_text(json.dumps(fn(work)))
        return 0

    path = Path(args.results)
    results = json.loads(path.read_text()) if path.exists() else {}
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        work = Path(args.work_dir) if args.work_dir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for stage in args.stages:
            print(f"running {stage} ...", flush=True)
            results[stage] = run_stage(stage, work)
            print(f"{stage}: {json.dumps(results[stage])}", flush=True)
            results["environment"] = environment(
                "sair, " + describe_defaults(num_interests=L, top_k=K),
                peak_rss_mb="sum of the resident memory of the stage's process tree",
            )
            path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
