"""The whole TFX pipeline with LocalDagRunner on tiny synthetic data, as `./sair run` runs it:
components recorded in ML Metadata, the pushed model served in a fresh process, the cache,
and the Evaluator's gate refusing a worse model."""

import glob
import json
import os
import re
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import pipeline_runner
from components.sequence_gen import synthetic
from pipeline.cli import run as run_command

NODES = {
    "SequenceExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Trainer",
    "latest_blessed_model_resolver",
    "Evaluator",
    "Pusher",
    "BatchRecommender",
}


def _run(root, data_dir, *extra):
    report = root / f"report{len(glob.glob(str(root / 'report*.json')))}.json"
    args = [
        "run",
        "--dataset",
        "synthetic",
        "--data-dir",
        str(data_dir),
        "--output-root",
        str(root / "out"),
        "--report",
        str(report),
        "--max-len",
        "20",
        "--hidden-dim",
        "16",
        "--num-interests",
        "4",
        "--top-k",
        "2",
        "--num-eval-negatives",
        "20",
        "--epochs",
        "40",
        "--patience",
        "10",
        "--batch-size",
        "64",
        *extra,
        "--",
        "--direct_running_mode=in_memory",
    ]
    assert pipeline_runner.main(args) == 0
    return json.loads(report.read_text())


def _executions(root):
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    from pipeline import run_report

    c = metadata_store_pb2.ConnectionConfig()
    c.sqlite.filename_uri = str(root / "out" / "metadata.sqlite")
    store = metadata_store.MetadataStore(c)
    return [(run_report._node_name(store, e), e.last_known_state) for e in store.get_executions()]


FRESH = textwrap.dedent("""
    import json, os, sys
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf
    m = tf.saved_model.load(sys.argv[1])
    history = tf.constant([sys.argv[2].split(",")])
    rec = m.signatures["recommend"](history=history)
    ids = rec["item_ids"]
    rescored = m.signatures["score"](history=history, candidates=ids)["scores"]
    # As TF Serving receives them: a serialized gRPC PredictRequest and a REST JSON body.
    from tensorflow_serving.apis import predict_pb2
    from sair_keras import serving_requests as sr
    wire = sr.predict_request([sys.argv[2].split(",")], "sair").SerializeToString()
    grpc = predict_pb2.PredictRequest.FromString(wire)
    grpc_ids = m.signatures[grpc.model_spec.signature_name](**sr.request_inputs(grpc))["item_ids"]
    body = json.loads(json.dumps(sr.rest_body([sys.argv[2].split(",")], "serving_default")))
    rest_ids = m.signatures[body["signature_name"]](**sr.rest_inputs(body))["item_ids"]
    print(json.dumps({"ids": ids.numpy().astype(str).tolist()[0],
                      "scores": rec["scores"].numpy().tolist()[0],
                      "rescored": rescored.numpy().tolist()[0],
                      "grpc_ids": grpc_ids.numpy().astype(str).tolist()[0],
                      "rest_ids": rest_ids.numpy().astype(str).tolist()[0]}))
""")


@pytest.mark.slow
def test_pipeline_end_to_end(tmp_path, capfd):
    data = synthetic.generate(
        synthetic.SyntheticConfig(
            num_users=300, num_items=120, num_categories=6, mean_length=15, seed=2
        ),
        tmp_path / "data",
    )
    first = _run(tmp_path, data)
    executions = _executions(tmp_path)
    assert sorted(name for name, _ in executions) == sorted(NODES)  # each exactly once
    assert first["blessed"] is True
    assert set(first["metrics"]["test"]) == {
        "hr_5",
        "hr_10",
        "hr_20",
        "ndcg_5",
        "ndcg_10",
        "ndcg_20",
        "full_hr_10",
        "full_hr_20",
        "full_ndcg_10",
        "full_ndcg_20",
        "popularity_full_ndcg_10",
        "full_ndcg_10_over_popularity",
    }
    test = first["metrics"]["test"]
    assert first["gate_metric"] == "full_ndcg_10"
    assert test["full_ndcg_10"] > test["popularity_full_ndcg_10"]
    assert test["full_ndcg_10_over_popularity"] == pytest.approx(
        test["full_ndcg_10"] - test["popularity_full_ndcg_10"], abs=2e-4
    )
    assert first["data"]["users"] == 300
    assert set(first["component_seconds"]) == NODES
    pushed = first["pushed_model"]
    assert os.path.dirname(pushed) == str(tmp_path / "out" / "serving" / "sair")
    assert os.path.basename(pushed).isdigit()  # <base>/<model_name>/<version>/
    assert os.path.exists(os.path.join(pushed, "saved_model.pb"))

    history = ["3", "17", "42", "8"]
    proc = subprocess.run(
        [sys.executable, "-c", FRESH, pushed, ",".join(history)],
        check=True,
        capture_output=True,
        text=True,
    )
    served = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(served["ids"]) == 10
    assert not set(served["ids"]) & set(history)
    assert served["rescored"] == pytest.approx(served["scores"], rel=1e-5)
    assert served["grpc_ids"] == served["ids"] == served["rest_ids"]

    # Batch recommendations from the pushed model: 10 items for each of the 300 users.
    recs = first["recommendations"]
    assert recs["users"] == 300
    rows = []
    for path in glob.glob(os.path.join(recs["uri"], "csv", "*.csv")):
        lines = open(path).read().splitlines()
        assert lines[0] == "user_id,rank,item_id,score"
        rows += [line.split(",") for line in lines[1:]]
    assert len(rows) == 300 * 10
    assert len({r[0] for r in rows}) == 300
    assert {r[1] for r in rows} == {str(k) for k in range(1, 11)}

    second = _run(tmp_path, data)
    states = dict(_executions(tmp_path)[len(NODES) :])
    from ml_metadata.proto import metadata_store_pb2

    cached = metadata_store_pb2.Execution.CACHED
    assert states["SequenceExampleGen"] == cached
    assert states["Trainer"] == cached
    assert second["metrics"]["test"] == first["metrics"]["test"]  # the same (cached) model
    assert set(second["metrics"]["test_change_vs_blessed"].values()) == {0.0}

    # A log with added users and items, retrained from the blessed model: with no epoch
    # run, the exported model scores the old items exactly as the blessed one does.
    grown = _grown_log(data, tmp_path / "grown")
    capfd.readouterr()
    retrained = _run(tmp_path, grown, "--warm-start", "--untrained")
    captured = capfd.readouterr()
    printed = captured.out + captured.err
    started = re.search(
        r"warm start from the last blessed model: (\d+) items kept, (\d+) new, 0 dropped", printed
    )
    assert started, printed
    kept, new = int(started.group(1)), int(started.group(2))
    assert kept == first["data"]["items"] and new >= 10
    assert kept + new == retrained["data"]["items"]
    import tensorflow as tf

    warm = tf.saved_model.load(_latest_model(tmp_path))
    blessed_model = tf.saved_model.load(pushed)
    candidates = tf.constant([["5", "9", "60", "101"]])
    scores = [
        m.signatures["score"](history=tf.constant([history]), candidates=candidates)["scores"]
        for m in (warm, blessed_model)
    ]
    np.testing.assert_allclose(scores[0].numpy(), scores[1].numpy(), rtol=1e-5)

    worse = _run(tmp_path, data, "--untrained", "--regression-tolerance", "0")
    assert worse["blessed"] is False
    assert worse["pushed_model"] is None
    assert worse["recommendations"] is None  # nothing recommended from an unpushed model
    assert worse["gate"]["compared_with"] is not None
    assert any("full_ndcg_10" in reason for reason in worse["not_blessed_because"])
    assert worse["metrics"]["test"]["full_ndcg_10"] < test["full_ndcg_10"]

    # A blessed model from before the `ranks` signature: the gate cannot compare with it,
    # so the next run is gated on the floor and popularity alone, and says so.
    from pipeline import blessed

    config = run_command.build_config(
        pipeline_runner.build_parser().parse_args(
            ["run", "--output-root", str(tmp_path / "out"), "--data-dir", str(data)]
        ),
        [],
    )
    legacy = os.path.join(blessed.latest_blessed_model_uri(config), blessed.SERVING_SUBDIR)
    assert blessed.has_eval_signature(os.path.dirname(legacy))
    _save_without_ranks(legacy)
    assert blessed.baseline(config).comparable is False
    gated_alone = _run(tmp_path, data, "--gate-floor", "0.9", "--epochs", "2")
    assert gated_alone["gate"]["compared_with"] is None
    assert "predates the metrics of this gate" in gated_alone["gate"]["notes"][0]
    assert "test_change_vs_blessed" not in gated_alone["metrics"]
    assert gated_alone["blessed"] is False
    assert any("full_ndcg_10" in r for r in gated_alone["not_blessed_because"])


def _grown_log(data, directory):
    """The synthetic log of `data` plus 40 new users, whose histories mix old items with 10
    new ones (ids 1001-1010, in a category of their own)."""
    directory.mkdir()
    rows = (data / synthetic.INTERACTIONS_FILE).read_text()
    rng = np.random.default_rng(0)
    added = []
    for u in range(40):
        for k in range(8):
            item = 1001 + (u + k) % 10 if k % 2 else int(rng.integers(1, 121))
            added.append(f"{10_000 + u},{item},{990_000_000 + 100 * u + k},4\n")
    (directory / synthetic.INTERACTIONS_FILE).write_text(rows + "".join(added))
    items = (data / synthetic.ITEMS_FILE).read_text()
    new_items = "".join(f"{1001 + k},genre_new\n" for k in range(10))
    (directory / synthetic.ITEMS_FILE).write_text(items + new_items)
    return directory


def _latest_model(root):
    """The serving SavedModel of the last Trainer execution, from ML Metadata."""
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    c = metadata_store_pb2.ConnectionConfig()
    c.sqlite.filename_uri = str(root / "out" / "metadata.sqlite")
    store = metadata_store.MetadataStore(c)
    models = store.get_artifacts_by_type("Model")
    return os.path.join(max(models, key=lambda a: a.id).uri, "Format-Serving")


def _save_without_ranks(path):
    """Replaces the SavedModel at `path` by one with its signatures but `ranks`."""
    import shutil

    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    signatures = {k: v for k, v in loaded.signatures.items() if k != "ranks"}
    tmp = path + ".legacy"
    tf.saved_model.save(loaded, tmp, signatures=signatures)
    shutil.rmtree(path)
    os.rename(tmp, path)


@pytest.mark.slow
def test_a_catalog_smaller_than_the_negatives_is_evaluated_on_the_full_catalog(tmp_path, capfd):
    # 40 items, 60 users, 100 negatives asked for: no user can have them. A shop's shapes:
    # numeric attribute ids as categories, items without any, positions instead of times.
    shop = synthetic.SyntheticConfig(
        num_users=60,
        num_items=40,
        num_categories=4,
        mean_length=8,
        numeric_categories=True,
        uncategorized_fraction=0.2,
        order_only=True,
    )
    data = synthetic.generate(shop, tmp_path / "data")
    # As a user's own log: max_len is chosen from the data (auto) and the model follows it.
    args = ["run", "--dataset", "csv", "--data-path", str(data / synthetic.INTERACTIONS_FILE)]
    args += ["--items-path", str(data / synthetic.ITEMS_FILE), "--id-type", "int"]
    args += ["--time-column", "position", "--time-type", "position"]
    args += ["--output-root", str(tmp_path / "out"), "--report", str(tmp_path / "r.json")]
    args += ["--epochs", "3", "--", "--direct_running_mode=in_memory"]
    assert pipeline_runner.main(args) == 0
    # The console holds the run's own lines: few, no traceback or warning, each epoch once.
    captured = capfd.readouterr()
    printed = (captured.out + captured.err).splitlines()
    assert len(printed) <= 80, "\n".join(printed)
    assert not [line for line in printed if "Traceback" in line or "Warning" in line]
    epochs = [m.group(1) for line in printed if (m := re.search(r"\] +epoch (\d+):", line))]
    assert epochs and len(epochs) == len(set(epochs))
    assert any("objective: softmax (auto:" in line for line in printed)
    assert any("moving average over epochs (weight_averaging 0.9)" in line for line in printed)
    report = json.loads((tmp_path / "r.json").read_text())
    data_report = report["data"]
    assert data_report["max_len_setting"] == "auto"
    assert data_report["items_without_category"] > 0
    assert 1 <= data_report["max_len"] <= data_report["max_sequence_length"]
    assert (
        report["data"]["users_without_sampled_negatives"]["test"]
        == report["data"]["examples"]["test"]
        > 0
    )
    test = report["metrics"]["test"]
    assert {"full_hr_10", "full_ndcg_10"} <= set(test)
    assert not {"hr_10", "ndcg_10"} & set(test)  # no user has the sampled negatives
    assert "sampled_metrics_missing_because" in report["metrics"]
    if not report["blessed"]:
        assert report["not_blessed_because"]


def test_kubeflow_v2_compiles_with_every_component_and_the_image(tmp_path):
    data = synthetic.generate(
        synthetic.SyntheticConfig(num_users=20, num_items=30, num_categories=3, mean_length=5),
        tmp_path / "data",
    )
    code = pipeline_runner.main(
        [
            "run",
            "--dataset",
            "synthetic",
            "--data-dir",
            str(data),
            "--runner",
            "kubeflow_v2",
            "--image",
            "europe-docker.pkg.dev/p/sair/pipeline:1.0",
            "--region",
            "europe-west4",
            "--service-account",
            "runner@p.iam.gserviceaccount.com",
            "--output-root",
            str(tmp_path / "out"),
            "--",
            "--runner=DataflowRunner",
            "--project=p",
        ]
    )
    assert code == 0
    spec = json.loads((tmp_path / "out" / "sair_pipeline.json").read_text())
    text = json.dumps(spec)
    tasks = spec["pipelineSpec"]["root"]["dag"]["tasks"]
    # The resolver compiles into two tasks named after it.
    assert all(any(task.startswith(node) for task in tasks) for node in NODES)
    assert "europe-docker.pkg.dev/p/sair/pipeline:1.0" in text
    for arg in (
        "--runner=DataflowRunner",
        "--project=p",
        "--region=europe-west4",
        "--service_account_email=runner@p.iam.gserviceaccount.com",
    ):
        assert arg in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--variant", "bert"], "invalid choice: 'bert'"),
        (["--top-k", "5", "--num-interests", "3"], "top_k K=5 exceeds the interest pool L=3"),
        (["--dataset", "csv"], "--dataset csv needs --data-path"),
        (["--dataset", "csv", "--data-path", "x.csv", "--format", "xls"], "unknown format 'xls'"),
    ],
)
def test_bad_configuration_is_refused_before_any_component_runs(tmp_path, capsys, args, message):
    try:
        code = pipeline_runner.main(["run", "--output-root", str(tmp_path / "out"), *args])
    except SystemExit as e:  # argparse
        code = e.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "pipeline").exists()


def test_malformed_config_file_is_refused(tmp_path, capsys):
    bad = tmp_path / "c.yaml"
    bad.write_text("model: {variant: sair\n")
    code = pipeline_runner.main(["run", "--config", str(bad), "--output-root", str(tmp_path)])
    assert code == 2
    assert "cannot read config file" in capsys.readouterr().err


@pytest.mark.slow
def test_a_trainer_killed_mid_training_resumes_at_the_next_epoch_on_rerun(tmp_path):
    data = synthetic.generate(
        synthetic.SyntheticConfig(
            num_users=200, num_items=80, num_categories=4, mean_length=12, seed=3
        ),
        tmp_path / "data",
    )
    out = tmp_path / "out"
    argv = [
        sys.executable,
        "pipeline_runner.py",
        "run",
        "--data-dir",
        str(data),
        "--output-root",
        str(out),
        "--max-len",
        "12",
        "--hidden-dim",
        "8",
        "--epochs",
        "200",
        "--patience",
        "200",
        "--num-eval-negatives",
        "10",
        "--",
        "--direct_running_mode=in_memory",
    ]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    first = subprocess.Popen(argv, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / "trainer_checkpoints" / "*" / "state.json"
    try:
        deadline = time.time() + 600
        while time.time() < deadline and first.poll() is None:
            found = glob.glob(str(state))
            if found and json.loads(open(found[0]).read())["epochs_done"] >= 3:
                break
            time.sleep(0.5)
        assert first.poll() is None, "the first run ended before it could be killed"
        done = json.loads(open(glob.glob(str(state))[0]).read())["epochs_done"]
    finally:
        first.kill()
        first.wait()
    rerun = subprocess.run(
        [*argv[:-2], "--epochs", str(done + 2), "--", "--direct_running_mode=in_memory"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    printed = rerun.stdout + rerun.stderr
    assert "Warning" not in printed and "Traceback" not in printed  # a fresh process's console
    assert f"resuming training at epoch {done + 1} (" in printed
    assert f"epoch {done + 2}:" in printed and "epoch 1:" not in printed
    assert not glob.glob(str(state))  # exported: the checkpoint is gone
