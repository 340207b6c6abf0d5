"""`create_pipeline`: wires the SAIR TFX pipeline. It only wires; runners live in runners.py.

SequenceExampleGen → StatisticsGen → SchemaGen → ExampleValidator
                   → Trainer (sair_keras.trainer_module.run_fn)
latest blessed model (Resolver) ─┐
                                 Evaluator (TFMA: sampled and full-catalog hr/ndcg on test,
                                 gate on `evaluation.gate_metric`)
                                 → Pusher (only when blessed) → <serving_base>/<version>/
                                 → BatchRecommender (top-N for every user, when pushed)
"""

from __future__ import annotations

import json

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx

from components.batch_recommend.component import BatchRecommender
from components.sequence_gen.component import SequenceExampleGen
from components.sequence_gen.executor import fingerprint
from pipeline.config import PipelineConfig
from sair_keras import features, metric_names
from sair_keras.export import EVAL_SIGNATURE

RANKING_MODULE = "sair_keras.ranking"
BASELINE_RESOLVER = "latest_blessed_model_resolver"
TRAINER_RUN_FN = "sair_keras.trainer_module.run_fn"
# A model "beats" popularity when its gate metric is above popularity's by at least this.
BEATS_POPULARITY_MARGIN = 1e-6


def _metric(class_name: str, name: str, threshold=None, **config) -> tfma.MetricConfig:
    """A metric of `sair_keras.ranking`; its `threshold`, if any, gates on the overall
    slice only (the history buckets are reported, not gated: a small bucket is noisy)."""
    return tfma.MetricConfig(
        class_name=class_name,
        module=RANKING_MODULE,
        config=json.dumps({"name": name, **config}),
        per_slice_thresholds=[
            tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)
        ]
        if threshold is not None
        else [],
    )


def _ranking_metric(name: str, threshold=None, popularity: bool = False) -> tfma.MetricConfig:
    kind, k, catalog = metric_names.parse_metric_name(name)
    return _metric(
        "RankingHitRate" if kind == "hr" else "RankingNDCG",
        metric_names.metric_name(kind, k, catalog, popularity),
        threshold,
        k=k,
        catalog=catalog,
        popularity=popularity,
    )


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """TFMA on the model's `ranks` signature: the sampled and the full-catalog ranking
    metrics of `sair_keras.ranking`, overall and per history-length bucket; the gate metric
    (`evaluation.gate_metric`) held to a floor and to no regression beyond the tolerance
    against the last blessed model, and (`evaluation.beat_popularity`) above the popularity
    baseline's: `popularity_<gate metric>` and `<gate metric>_over_popularity` (the model's
    minus popularity's, on the same users) are computed for that."""
    e = config.evaluation
    gate = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": e.gate_floor}),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": -e.regression_tolerance},
        ),
    )
    metrics = [
        _ranking_metric(name, gate if name == e.gate_metric else None)
        for name in metric_names.evaluated_metric_names(e.gate_metric)
    ]
    metrics.append(_ranking_metric(e.gate_metric, popularity=True))
    over = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": BEATS_POPULARITY_MARGIN})
    )
    metrics.append(
        _metric(
            "RankingOverPopularity",
            e.gate_metric + metric_names.OVER_POPULARITY_SUFFIX,
            over if e.beat_popularity else None,
            metric=e.gate_metric,
        )
    )
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name=EVAL_SIGNATURE,
                label_key=features.TARGET,
                prediction_key=EVAL_SIGNATURE,
            )
        ],
        slicing_specs=[
            tfma.SlicingSpec(),
            tfma.SlicingSpec(feature_keys=[features.HISTORY_BUCKET]),
        ],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
    )


def _trainer(config: PipelineConfig):
    """TFX's Trainer, or its Google Cloud extension's when the Trainer runs on Vertex AI
    Training (`kubeflow.training`)."""
    if config.kubeflow.training is not None:
        return tfx.extensions.google_cloud_ai_platform.Trainer
    return tfx.components.Trainer


def trainer_custom_config(config: PipelineConfig) -> dict:
    """What `run_fn` reads (model, train, top_n) and, for Vertex AI Training, the job: the
    project, the region and the worker pools (`VertexTrainingConfig.worker_pool_specs`)."""
    custom = config.trainer_custom_config()
    training = config.kubeflow.training
    if training is None:
        return custom
    cloud = tfx.extensions.google_cloud_ai_platform
    return {
        **custom,
        cloud.ENABLE_VERTEX_KEY: True,
        cloud.VERTEX_REGION_KEY: config.kubeflow.region,
        cloud.TRAINING_ARGS_KEY: {
            "project": config.kubeflow.project,
            "worker_pool_specs": training.worker_pool_specs(config.kubeflow.image),
        },
    }


def create_pipeline(config: PipelineConfig, compare_with_blessed: bool = True) -> tfx.dsl.Pipeline:
    """The pipeline of `config`. With `compare_with_blessed` False the Evaluator gets no
    baseline (the gate is the floor and popularity alone), for a last blessed model that
    predates the metrics the gate needs (see `pipeline.blessed`)."""
    gen = SequenceExampleGen(
        config.source, config.data, input_fingerprint=fingerprint(config.source)
    )
    statistics = tfx.components.StatisticsGen(examples=gen.outputs["examples"])
    schema = tfx.components.SchemaGen(statistics=statistics.outputs["statistics"])
    validator = tfx.components.ExampleValidator(
        statistics=statistics.outputs["statistics"], schema=schema.outputs["schema"]
    )
    baseline = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id(BASELINE_RESOLVER)
    trainer = _trainer(config)(
        run_fn=TRAINER_RUN_FN,
        examples=gen.outputs["examples"],
        schema=schema.outputs["schema"],
        base_model=baseline.outputs["model"] if config.warm_start else None,
        train_args=tfx.proto.TrainArgs(splits=[features.SPLIT_TRAIN]),
        eval_args=tfx.proto.EvalArgs(splits=[features.SPLIT_EVAL]),
        custom_config=trainer_custom_config(config),
    )
    evaluator = tfx.components.Evaluator(
        examples=gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"] if compare_with_blessed else None,
        example_splits=[features.SPLIT_TEST],
        eval_config=eval_config(config),
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.serving_base)
        ),
    )
    recommender = BatchRecommender(
        examples=gen.outputs["examples"],
        pushed_model=pusher.outputs["pushed_model"],
        batch_size=config.batch_recommend_size,
    )
    return tfx.dsl.Pipeline(
        pipeline_name=config.name,
        pipeline_root=config.pipeline_root,
        components=[
            gen,
            statistics,
            schema,
            validator,
            trainer,
            *([baseline] if compare_with_blessed or config.warm_start else []),
            evaluator,
            pusher,
            recommender,
        ],
        enable_cache=config.enable_cache,
        metadata_connection_config=(
            tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
            if config.runner != "kubeflow_v2"
            else None
        ),
        beam_pipeline_args=list(config.beam_args),
    )
