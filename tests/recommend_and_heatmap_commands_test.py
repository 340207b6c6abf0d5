"""`pipeline_runner.py recommend` and `heatmap` as a user runs them on an ingested dataset
and a saved model."""

from __future__ import annotations

import csv
import json

import pytest

import pipeline_runner
from components.sequence_gen import synthetic
from sair_keras import export
from sair_keras.catalog import Catalog
from sair_keras.config import ModelConfig
from sair_keras.model import build_model

IN_MEMORY = ["--", "--direct_running_mode=in_memory"]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmd")
    data = synthetic.generate(
        synthetic.SyntheticConfig(num_users=40, num_items=25, num_categories=3, mean_length=6),
        root / "data",
    )
    out = root / "ingested"
    args = ["ingest", "--dataset", "synthetic", "--data-dir", str(data), "--output", str(out)]
    assert pipeline_runner.main([*args, "--max-len", "10", *IN_MEMORY]) == 0
    report = json.loads((out / "data_report.json").read_text())
    catalog = Catalog.load(str(out / "vocabulary"))
    models = {}
    for variant in ("sair", "sasrec"):
        model = build_model(
            catalog,
            ModelConfig(variant=variant, max_len=10, hidden_dim=8, num_interests=4, top_k=2),
        )
        models[variant] = str(root / variant)
        export.export_serving_model(model, catalog, models[variant], top_n=4)
    return out, report, models


def test_recommend_writes_top_n_for_every_user(ingested, tmp_path, capsys):
    out, report, models = ingested
    args = ["recommend", "--model", models["sair"], "--examples", str(out / "examples")]
    assert pipeline_runner.main([*args, "--output", str(tmp_path), *IN_MEMORY]) == 0
    assert int((tmp_path / "users.txt").read_text()) == report["users"]
    rows = []
    for path in (tmp_path / "csv").glob("*.csv"):
        with open(path, newline="") as f:
            rows += list(csv.DictReader(f))
    assert len(rows) == 4 * report["users"]
    assert {r["rank"] for r in rows} == {"1", "2", "3", "4"}
    assert list((tmp_path / "tfrecord").glob("*.tfrecord.gz"))
    assert "recommendations:" in capsys.readouterr().out


def test_heatmap_for_a_user_and_for_a_history(ingested, tmp_path):
    out, _, models = ingested
    user = tmp_path / "user.png"
    args = ["heatmap", "--model", models["sair"], "--examples", str(out / "examples")]
    assert pipeline_runner.main([*args, "--user", "1", "--output", str(user)]) == 0
    assert user.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    history = tmp_path / "history.png"
    args = ["heatmap", "--model", models["sair"], "--history", "1,2,3"]
    assert pipeline_runner.main([*args, "--output", str(history)]) == 0
    assert history.exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--history", "1,2"], "no `interests` signature"),
        ([], "heatmap needs --history, or --user with --examples"),
    ],
)
def test_heatmap_errors_are_messages(ingested, tmp_path, capsys, extra, message):
    _, _, models = ingested
    args = ["heatmap", "--model", models["sasrec"], "--output", str(tmp_path / "x.png"), *extra]
    assert pipeline_runner.main(args) == 2
    assert message in capsys.readouterr().err


def test_heatmap_unknown_user(ingested, tmp_path, capsys):
    out, _, models = ingested
    args = ["heatmap", "--model", models["sair"], "--examples", str(out / "examples")]
    assert pipeline_runner.main([*args, "--user", "nobody", "--output", "x.png"]) == 2
    assert "'nobody' is not in" in capsys.readouterr().err
