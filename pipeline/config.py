"""`PipelineConfig`: what the pipeline runs on, where it writes and how it gates a model.

Put together by `pipeline.configurator` (defaults ← config file ← flags); checked before
any component runs, so a bad configuration fails with a message, not half-way through a run.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from components.sequence_gen.config import DataConfig, SourceConfig
from sair_keras.config import ConfigError, ModelConfig, TrainConfig
from sair_keras.metric_names import parse_metric_name

RUNNERS = ("local", "beam", "kubeflow_v2")
TRAINER_CHECKPOINTS = "trainer_checkpoints"


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """The Evaluator's gate, on the test split.

    Attributes:
      gate_metric: the ranking metric the gate reads (`sair_keras.metric_names`):
        `full_ndcg_10` (default; the target among every item the user has not seen), or
        e.g. `ndcg_10` (the paper's sampled metric).
      gate_floor: a model whose `gate_metric` is below this is not blessed.
      regression_tolerance: not blessed when `gate_metric` drops more than this below the
        last blessed model's (absolute).
      beat_popularity: not blessed unless `gate_metric` is above the popularity
        baseline's (items ranked by their training-split counts) on the same users.
    """

    gate_metric: str = "full_ndcg_10"
    gate_floor: float = 0.0
    regression_tolerance: float = 0.01
    beat_popularity: bool = True

    def __post_init__(self) -> None:
        try:
            parse_metric_name(self.gate_metric)
        except ValueError as e:
            raise ConfigError(f"evaluation.gate_metric: {e}") from e
        if self.regression_tolerance < 0:
            raise ConfigError(
                f"evaluation.regression_tolerance must be >= 0, got {self.regression_tolerance}"
            )


@dataclasses.dataclass(frozen=True)
class VertexTrainingConfig:
    """The Trainer as a Vertex AI Training job (TFX's Google Cloud extension) instead of a
    step of the pipeline's own container: `replica_count` machines in all, a chief pool of
    one and a worker pool of the rest, each `machine_type` with `accelerator_count`
    accelerators of `accelerator_type` (none by default). Vertex sets `TF_CONFIG` for the
    pools, so more than one replica trains under MultiWorkerMirroredStrategy."""

    machine_type: str = "n1-standard-8"
    replica_count: int = 1
    accelerator_type: str | None = None
    accelerator_count: int = 0

    def __post_init__(self) -> None:
        if self.replica_count < 1:
            raise ConfigError(
                f"kubeflow.training.replica_count must be >= 1, got {self.replica_count}"
            )
        if self.accelerator_count < 0 or (self.accelerator_count > 0) != bool(
            self.accelerator_type
        ):
            raise ConfigError(
                "kubeflow.training: give accelerator_type and accelerator_count (> 0) "
                f"together, got {self.accelerator_type!r} × {self.accelerator_count}"
            )

    def worker_pool_specs(self, image: str) -> list[dict[str, Any]]:
        """Vertex AI CustomJob worker pools: the chief, then the other workers if any."""
        machine: dict[str, Any] = {"machine_type": self.machine_type}
        if self.accelerator_count:
            machine["accelerator_type"] = self.accelerator_type
            machine["accelerator_count"] = self.accelerator_count
        pool = {"machine_spec": machine, "container_spec": {"image_uri": image}}
        pools = [{**pool, "replica_count": 1}]
        if self.replica_count > 1:
            pools.append({**pool, "replica_count": self.replica_count - 1})
        return pools


@dataclasses.dataclass(frozen=True)
class KubeflowConfig:
    """Vertex AI Pipelines settings.

    Attributes:
      image: the pipeline image every component runs in (see Dockerfile).
      project, region: of Vertex AI.
      service_account: the pipeline job runs as this account.
      output_file: the compiled pipeline definition (JSON).
      training: a `VertexTrainingConfig` (or its fields as a mapping): the Trainer runs as
        a Vertex AI Training job.
    """

    image: str = "gcr.io/PROJECT/sair-tfx:latest"
    project: str | None = None
    region: str | None = None
    service_account: str | None = None
    output_file: str = "sair_pipeline.json"
    training: VertexTrainingConfig | None = None

    def __post_init__(self) -> None:
        if isinstance(self.training, dict):
            try:
                training = VertexTrainingConfig(**self.training)
            except TypeError as e:
                raise ConfigError(f"kubeflow.training: {e}") from e
            object.__setattr__(self, "training", training)


DEFAULT_BEAM_ARGS = ("--direct_running_mode=multi_processing", "--direct_num_workers=0")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Everything a run needs; built by `pipeline.configurator`.

    Attributes:
      source: the input files and their columns.
      name: the pipeline's name (ML Metadata, Vertex AI).
      output_root: pipeline root, ML Metadata and pushed models (a local folder or a URI).
      model_name: pushed to <output_root>/serving/<model_name>/<version>.
      top_n: items the recommend signature returns.
      batch_recommend_size: users per model call in BatchRecommender.
      runner: local (LocalDagRunner), beam (BeamDagRunner) or kubeflow_v2 (compiles for
        Vertex AI Pipelines).
      beam_args: Apache Beam's options (the arguments after `--`); by default the
        DirectRunner with one worker process per core.
      enable_cache: reuse the outputs of components whose inputs did not change.
      warm_start: the Trainer starts from the last blessed model's weights (item rows
        matched by raw id: new items start fresh, removed ones are dropped) instead of a
        fresh initialisation; a daily retraining continues from yesterday's model. Without
        a blessed model, or with one of another architecture, training starts fresh.
      metadata_sqlite: the ML Metadata SQLite file of the local and beam runners (default
        <output_root>/metadata.sqlite; required when the output root is remote).
    """

    source: SourceConfig
    name: str = "sair"
    output_root: str = "sair_output"
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    model_name: str = "sair"
    top_n: int = 10
    batch_recommend_size: int = 256
    runner: str = "local"
    beam_args: tuple[str, ...] = DEFAULT_BEAM_ARGS
    kubeflow: KubeflowConfig = KubeflowConfig()
    enable_cache: bool = True
    warm_start: bool = False
    metadata_sqlite: str | None = None

    def __post_init__(self) -> None:
        if self.runner not in RUNNERS:
            raise ConfigError(f"unknown runner {self.runner!r}; expected one of {RUNNERS}")
        if self.model.variant == "sair" and self.model.top_k > self.model.num_interests:
            raise ConfigError(
                f"K > L: top_k {self.model.top_k} exceeds num_interests {self.model.num_interests}"
            )
        if self.model.exclude_seen != self.data.exclude_seen:
            raise ConfigError(
                f"model.exclude_seen ({self.model.exclude_seen}) must equal data.exclude_seen "
                f"({self.data.exclude_seen})"
            )
        if self.data.max_len != "auto" and self.model.max_len != self.data.max_len:
            raise ConfigError(
                f"model.max_len ({self.model.max_len}) must equal data.max_len "
                f"({self.data.max_len})"
            )
        if self.runner != "kubeflow_v2" and "://" in self.output_root and not self.metadata_sqlite:
            raise ConfigError(
                f"the {self.runner} runner keeps ML Metadata in a local SQLite file: set "
                f"metadata_sqlite (a local path) when output_root is remote ({self.output_root})"
            )
        if self.top_n < 1:
            raise ConfigError(f"top_n must be >= 1, got {self.top_n}")
        if self.kubeflow.training is not None and self.runner != "kubeflow_v2":
            raise ConfigError("kubeflow.training (Vertex AI Training) needs the kubeflow_v2 runner")
        if self.kubeflow.training is not None and not (
            self.kubeflow.project and self.kubeflow.region
        ):
            raise ConfigError("kubeflow.training needs kubeflow.project and region")
        if self.batch_recommend_size < 1:
            raise ConfigError(f"batch_recommend_size must be >= 1, got {self.batch_recommend_size}")

    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.output_root, "pipeline")

    @property
    def metadata_path(self) -> str:
        return self.metadata_sqlite or os.path.join(self.output_root, "metadata.sqlite")

    @property
    def serving_base(self) -> str:
        """Pushed models land in `<serving_base>/<version>/` (TF Serving's layout)."""
        return os.path.join(self.output_root, "serving", self.model_name)

    @property
    def trainer_checkpoint_root(self) -> str | None:
        """Where the Trainer saves every epoch to resume a run that died: a stable folder
        under a local output root (a remote one keeps none)."""
        if "://" in self.output_root:
            return None
        return os.path.join(self.output_root, TRAINER_CHECKPOINTS)

    def trainer_custom_config(self) -> dict[str, Any]:
        custom = {"model": self.model.to_dict(), "train": self.train.to_dict(), "top_n": self.top_n}
        if self.trainer_checkpoint_root:
            custom["checkpoint_root"] = self.trainer_checkpoint_root
        if self.warm_start:
            custom["warm_start"] = True
        return custom


def check_beam_runner(beam_args: list[str] | tuple[str, ...]) -> None:
    """Raises ConfigError naming the runners Beam knows when `--runner` in the Beam
    arguments is none of them (nor a qualified class name), before any component runs."""
    runner = None
    for i, arg in enumerate(beam_args):
        if arg.startswith("--runner="):
            runner = arg.split("=", 1)[1]
        elif arg == "--runner" and i + 1 < len(beam_args):
            runner = beam_args[i + 1]
    if runner is None or "." in runner:
        return
    from apache_beam.options.pipeline_options import StandardOptions

    known = {name.lower() for name in StandardOptions.KNOWN_RUNNER_NAMES}
    if runner.lower() not in known and runner.lower() + "runner" not in known:
        raise ConfigError(
            f"unknown Beam runner {runner!r}; Beam knows "
            f"{', '.join(StandardOptions.KNOWN_RUNNER_NAMES)} (or give a runner's qualified "
            "class name)"
        )
