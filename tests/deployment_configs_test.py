"""The documented deployment configurations (configs/*.yaml): Vertex AI Pipelines with
Dataflow, and local orchestration with Dataflow. Compiled or built offline here."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

import pipeline_runner
from components.sequence_gen import movielens
from pipeline.cli import run as run_command
from pipeline.pipeline import create_pipeline

ROOT = Path(__file__).resolve().parent.parent
BEAM_COMPONENTS = ("SequenceExampleGen", "StatisticsGen", "Evaluator", "BatchRecommender")


def _config(name: str):
    args = pipeline_runner.build_parser().parse_args(
        ["run", "--config", str(ROOT / "configs" / name)]
    )
    return run_command.build_config(args, [])


def _movielens_source(dataset: str, files: tuple[str, ...], tmp_path: Path) -> dict:
    for f in files:
        (tmp_path / f).write_text("")
    return json.loads(movielens.source_config(dataset, tmp_path).to_json())


@pytest.mark.parametrize(
    "name, dataset, files",
    [
        ("vertex.yaml", "ml-1m", ("ratings.dat", "movies.dat")),
        ("dataflow.yaml", "ml-20m", ("ratings.csv", "movies.csv")),
    ],
)
def test_config_sources_read_movielens_as_the_built_in_reader_does(name, dataset, files, tmp_path):
    ours = json.loads(_config(name).source.to_json())
    reference = _movielens_source(dataset, files, tmp_path)
    gcs = ours["paths"][0].rsplit("/", 1)[0]
    reference["paths"] = [p.replace(str(tmp_path), gcs) for p in reference["paths"]]
    reference["items"]["path"] = reference["items"]["path"].replace(str(tmp_path), gcs)
    assert ours == reference


def test_vertex_spec_names_the_image_and_gives_the_beam_args_to_the_beam_components(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # a gs:// output root: the spec is written here
    raw = yaml.safe_load((ROOT / "configs" / "vertex.yaml").read_text())
    config = _config("vertex.yaml")
    assert config.output_root == "gs://BUCKET/sair"
    assert pipeline_runner.main(["run", "--config", str(ROOT / "configs" / "vertex.yaml")]) == 0
    spec = json.loads((tmp_path / "sair_pipeline.json").read_text())
    assert spec["runtimeConfig"]["gcsOutputDirectory"].startswith("gs://BUCKET/sair/")
    executors = spec["pipelineSpec"]["deploymentSpec"]["executors"]
    expected_args = [
        *raw["beam_args"],
        "--project=PROJECT",
        "--region=europe-west4",
        "--service_account_email=sair-runner@PROJECT.iam.gserviceaccount.com",
    ]
    for component in BEAM_COMPONENTS:
        container = executors[f"{component}_executor"]["container"]
        assert container["image"] == raw["kubeflow"]["image"]
        for arg in expected_args:
            assert arg in container["args"], f"{component} misses {arg}"
    assert executors["Trainer_executor"]["container"]["image"] == raw["kubeflow"]["image"]


def test_vertex_config_sends_the_trainer_to_vertex_ai_training_with_worker_pools(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    raw = yaml.safe_load((ROOT / "configs" / "vertex.yaml").read_text())
    assert pipeline_runner.main(["run", "--config", str(ROOT / "configs" / "vertex.yaml")]) == 0
    spec = json.loads((tmp_path / "sair_pipeline.json").read_text())
    executor = spec["pipelineSpec"]["deploymentSpec"]["executors"]["Trainer_executor"]
    assert "google_cloud_ai_platform.trainer.executor" in " ".join(executor["container"]["args"])
    parameters = spec["pipelineSpec"]["root"]["dag"]["tasks"]["Trainer"]["inputs"]["parameters"]
    custom = json.loads(parameters["custom_config"]["runtimeValue"]["constantValue"]["stringValue"])
    assert custom["ai_platform_enable_vertex"] is True
    assert custom["ai_platform_vertex_region"] == raw["kubeflow"]["region"]
    job = custom["ai_platform_training_args"]
    assert job["project"] == raw["kubeflow"]["project"]
    training = raw["kubeflow"]["training"]
    machine = {"machine_type": training["machine_type"]}
    image = {"image_uri": raw["kubeflow"]["image"]}
    assert job["worker_pool_specs"] == [
        {"machine_spec": machine, "container_spec": image, "replica_count": 1},
        {
            "machine_spec": machine,
            "container_spec": image,
            "replica_count": training["replica_count"] - 1,
        },
    ]
    assert custom["model"]["variant"] == "sair"  # what run_fn reads


def test_vertex_training_pools_with_accelerators_and_their_checks():
    from pipeline.config import ConfigError, VertexTrainingConfig

    gpu = VertexTrainingConfig("a2-highgpu-1g", 1, "NVIDIA_TESLA_A100", 1)
    assert gpu.worker_pool_specs("IMG") == [
        {
            "machine_spec": {
                "machine_type": "a2-highgpu-1g",
                "accelerator_type": "NVIDIA_TESLA_A100",
                "accelerator_count": 1,
            },
            "container_spec": {"image_uri": "IMG"},
            "replica_count": 1,
        }
    ]
    with pytest.raises(ConfigError, match="replica_count must be >= 1"):
        VertexTrainingConfig(replica_count=0)
    with pytest.raises(ConfigError, match="accelerator_type and accelerator_count"):
        VertexTrainingConfig(accelerator_count=2)
    local = _config("vertex.yaml")
    with pytest.raises(ConfigError, match="needs the kubeflow_v2 runner"):
        dataclasses.replace(local, runner="local", metadata_sqlite="m.sqlite")


def test_dataflow_config_keeps_gcs_paths_and_passes_its_beam_args():
    config = _config("dataflow.yaml")
    assert config.output_root == "gs://BUCKET/sair-ml20m"
    assert config.serving_base == "gs://BUCKET/sair-ml20m/serving/sair"
    assert (config.model.num_interests, config.model.top_k) == (20, 8)  # the paper's ML-20M
    pipeline = create_pipeline(config)
    args = pipeline.beam_pipeline_args
    for arg in ("--runner=DataflowRunner", "--project=PROJECT", "--setup_file=./setup.py"):
        assert arg in args
    assert pipeline.pipeline_info.pipeline_root == "gs://BUCKET/sair-ml20m/pipeline"
    sqlite = pipeline.metadata_connection_config.sqlite.filename_uri
    assert sqlite == str(Path("sair_output/sair-ml20m-metadata.sqlite").resolve())


def test_a_remote_output_root_needs_a_local_metadata_file():
    import dataclasses

    from pipeline.config import ConfigError

    config = _config("dataflow.yaml")
    with pytest.raises(ConfigError, match="set metadata_sqlite"):
        dataclasses.replace(config, metadata_sqlite=None)


def test_model_flags_override_the_config_file():
    args = pipeline_runner.build_parser().parse_args(
        ["run", "--config", str(ROOT / "configs" / "dataflow.yaml"), "--training-loss", "softmax"]
    )
    config = run_command.build_config(args, [])
    assert config.model.training_loss == "softmax"
    assert (config.model.num_interests, config.model.top_k) == (20, 8)  # from the file
    assert config.data.item_catalog == "interactions"


def test_the_item_catalog_comes_from_the_file_or_the_flag(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("data: {item_catalog: item_table}\n")
    parse = pipeline_runner.build_parser().parse_args
    config = run_command.build_config(parse(["run", "--config", str(cfg)]), [])
    assert config.data.item_catalog == "item_table"
    args = parse(["run", "--config", str(cfg), "--item-catalog", "interactions"])
    assert run_command.build_config(args, []).data.item_catalog == "interactions"


def test_the_paper_configuration_reproduces_eq_10_under_the_sampled_metric(tmp_path):
    _movielens_source("ml-1m", ("ratings.dat", "movies.dat"), tmp_path)
    args = pipeline_runner.build_parser().parse_args(
        ["run", "--dataset", "ml-1m", "--data-dir", str(tmp_path), "--config"]
        + [str(ROOT / "configs" / "paper.yaml"), "--output-root", str(tmp_path / "out")]
    )
    config = run_command.build_config(args, [])
    assert config.model.aggregation_residual is False  # eq. 10 as written
    assert (config.model.training_loss, config.data.max_len, config.model.max_len) == (
        "bce",
        150,
        150,
    )
    # The paper's training: one example per user, dropout 0.2, 256 histories per step.
    assert (config.data.training_windows, config.model.dropout, config.train.batch_size) == (
        "last",
        0.2,
        256,
    )
    assert config.train.early_stopping_metric == "ndcg_10"
    assert config.evaluation.gate_metric == "ndcg_10"
