"""The Trainer's `run_fn` on two worker processes (MultiWorkerMirroredStrategy over
127.0.0.1, from `TF_CONFIG`) trains as well as on one process.

Each run is a fresh process: collective ops are configured when the strategy is made, before
TensorFlow runs anything, which an already-running process (a LocalDagRunner, pytest
itself) cannot undo. Every worker takes one thread. The data are ML-100K-sized synthetic
logs (943 users, 1,682 items, ~100 items per user).
"""

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf

from components.sequence_gen import ingest, synthetic
from components.sequence_gen.config import DataConfig
from sair_keras import trainer_module

MAX_LEN = 50
EPOCHS = 8
# The two runs differ in their random draws (dropout, training negatives) and in the order
# of floating-point sums, as two single-process runs do (which differ by up to ~0.02 here):
# their best validation full_ndcg_10 (~0.33) agree within this.
TOLERANCE = 0.04
TIMEOUT_S = 900  # bounds a hung collective; not a speed check

WORKER = textwrap.dedent(
    """
    import json, logging, os, sys
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    from tfx.components.trainer.fn_args_utils import FnArgs
    from sair_keras import trainer_module
    trainer_module.run_fn(FnArgs(**json.loads(sys.argv[1])))
    """
)


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ml-100k-sized")
    config = synthetic.SyntheticConfig(
        num_users=943, num_items=1682, num_categories=18, mean_length=106, seed=7
    )
    source = synthetic.source_config(synthetic.generate(config, root / "in"))
    outputs = ingest.IngestOutputs.under(str(root / "out"))
    ingest.run_ingestion(source, DataConfig(max_len=MAX_LEN), outputs, lambda: beam.Pipeline())
    return Path(outputs.examples_dir)


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _fn_args(examples: Path, out: Path) -> dict:
    return {
        "train_files": [str(examples / "Split-train" / "*")],
        "eval_files": [str(examples / "Split-eval" / "*")],
        "serving_model_dir": str(out / "serving"),
        "model_run_dir": str(out / "run"),
        "custom_config": {
            "model": {"max_len": MAX_LEN, "hidden_dim": 32, "num_interests": 8, "top_k": 3},
            "train": {"epochs": EPOCHS, "patience": EPOCHS, "batch_size": 128, "seed": 0},
        },
    }


def _start(fn_args: dict, tf_config: dict | None) -> subprocess.Popen:
    env = {
        **os.environ,
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(fn_args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen) -> str:
    try:
        out, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        pytest.fail(f"a training process did not end within {TIMEOUT_S} s:\n{out[-3000:]}")
    assert process.returncode == 0, out[-3000:]
    return out


def _history(out: Path) -> dict:
    return json.loads((out / "run" / trainer_module.HISTORY_FILE).read_text())


def test_two_workers_train_to_the_quality_of_one(examples, tmp_path):
    single = _start(_fn_args(examples, tmp_path / "single"), None)
    _finish(single)

    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    shared = tmp_path / "cluster"  # both workers are given the same output paths
    workers = [
        _start(
            _fn_args(examples, shared), {"cluster": cluster, "task": {"type": "worker", "index": i}}
        )
        for i in range(2)
    ]
    logs = [_finish(w) for w in workers]

    one, two = _history(tmp_path / "single"), _history(shared)
    assert len(two["loss"]) == EPOCHS
    assert two["ranking_loss"][-1] < two["ranking_loss"][0]
    best_one = max(one["val_full_ndcg_10"])
    best_two = max(two["val_full_ndcg_10"])
    # Kept learning after the first epoch.
    assert best_two > two["val_full_ndcg_10"][0] + 0.03
    assert abs(best_two - best_one) <= TOLERANCE, (best_one, best_two)
    # The loss is the mean over the global batch (each worker's share, summed), not a sum
    # of the workers' means: the same scale as one process's.
    assert abs(two["ranking_loss"][-1] / one["ranking_loss"][-1] - 1) < 0.15
    # Only the chief (worker 0) wrote the outputs given; worker 1 wrote its copy to a
    # scratch folder, and only the chief's log has the training progress.
    assert "training on 2 replicas" in logs[0]
    assert "epoch 1:" in logs[0] and "epoch 1:" not in logs[1]
    assert "writes its copy" not in logs[0]
    scratch = re.search(rf"copy of {re.escape(str(shared / 'serving'))} to (\S+)", logs[1])
    assert scratch, logs[1][-2000:]
    # The workers stayed in step: the same weights in both copies.
    chief = tf.train.load_checkpoint(str(shared / "serving" / "variables" / "variables"))
    other = tf.train.load_checkpoint(os.path.join(scratch.group(1), "variables", "variables"))
    names = [
        n
        for n in chief.get_variable_to_shape_map()
        if n.startswith("model/") and "optimizer" not in n and "keras_api" not in n
    ]
    assert len(names) > 10
    for name in names:
        np.testing.assert_allclose(chief.get_tensor(name), other.get_tensor(name), atol=1e-6)
