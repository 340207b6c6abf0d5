"""Thin runners around `create_pipeline`: local, Beam, Kubeflow Pipelines v2 / Vertex AI.

- local: `LocalDagRunner`, SQLite ML Metadata under the output root, Beam DirectRunner for
  the Beam-based components. No service needed.
- beam: `BeamDagRunner` orchestrates the components as a Beam pipeline; the components' own
  Beam work goes where `beam_args` say (Dataflow, Flink, Spark; see docs/RUNNERS.md).
- kubeflow_v2: compiles the pipeline JSON for Kubeflow Pipelines v2 / Vertex AI Pipelines;
  image, project, region and service account come from `PipelineConfig.kubeflow`.
"""

from __future__ import annotations

import dataclasses

from tfx import v1 as tfx

from pipeline.config import PipelineConfig
from pipeline.pipeline import create_pipeline


def run_local(config: PipelineConfig, compare_with_blessed: bool = True) -> None:
    tfx.orchestration.LocalDagRunner().run(create_pipeline(config, compare_with_blessed))


def run_beam(config: PipelineConfig, compare_with_blessed: bool = True) -> None:
    from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

    BeamDagRunner().run(create_pipeline(config, compare_with_blessed))


def _with_cloud_beam_args(config: PipelineConfig) -> PipelineConfig:
    """Adds the Kubeflow config's project, region and service account to the Beam args of
    the Beam-based components (Dataflow needs them), unless the args already name them."""
    kf = config.kubeflow
    args = list(config.beam_args)
    for flag, value in (
        ("--project", kf.project),
        ("--region", kf.region),
        ("--service_account_email", kf.service_account),
    ):
        if value and not any(a.startswith(flag + "=") for a in args):
            args.append(f"{flag}={value}")
    return dataclasses.replace(config, beam_args=tuple(args))


def compile_kubeflow_v2(config: PipelineConfig, compare_with_blessed: bool = True) -> str:
    """Writes the pipeline spec JSON, under the output root when that is a local folder,
    else (gs://…) in the current folder; returns its path."""
    import os

    config = _with_cloud_beam_args(config)
    kf = config.kubeflow
    spec_dir = config.output_root if "://" not in config.output_root else os.getcwd()
    os.makedirs(spec_dir, exist_ok=True)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=kf.image),
        output_dir=spec_dir,
        output_filename=kf.output_file,
    )
    runner.run(create_pipeline(config, compare_with_blessed), write_out=True)
    return os.path.join(spec_dir, kf.output_file)


RUNNERS = {"local": run_local, "beam": run_beam, "kubeflow_v2": compile_kubeflow_v2}
