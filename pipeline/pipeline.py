"""`create_pipeline`: wires the SAIR TFX pipeline. It only wires; runners live in runners.py.

SequenceExampleGen → StatisticsGen → SchemaGen → ExampleValidator
                   → Trainer (sair_keras.trainer_module.run_fn)
latest blessed model (Resolver) ─┐
                                 Evaluator (TFMA: hr/ndcg@5/10/20 on test, gate on ndcg_10)
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
from sair_keras import features, ranking

TRAINER_RUN_FN = "sair_keras.trainer_module.run_fn"
GATED_METRIC = "ndcg_10"


def eval_config(config: PipelineConfig) -> tfma.EvalConfig:
    """TFMA: the sampled ranking metrics of `sair_keras.ranking` on the candidate scores,
    overall and per history-length bucket; `ndcg_10` gated by a floor and by no regression
    beyond the tolerance against the last blessed model."""
    gate = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(
            lower_bound={"value": config.evaluation.ndcg_10_floor}
        ),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": -config.evaluation.regression_tolerance},
        ),
    )
    metrics = []
    for name in ranking.METRIC_NAMES:
        kind, k = name.split("_")
        metrics.append(
            tfma.MetricConfig(
                class_name="SampledHitRate" if kind == "hr" else "SampledNDCG",
                module=ranking.__name__,
                config=json.dumps({"k": int(k), "name": name}),
                threshold=gate if name == GATED_METRIC else None,
            )
        )
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="candidate_scores",
                label_key=features.TARGET,
                prediction_key="scores",
            )
        ],
        slicing_specs=[
            tfma.SlicingSpec(),
            tfma.SlicingSpec(feature_keys=[features.HISTORY_BUCKET]),
        ],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
    )


def create_pipeline(config: PipelineConfig) -> tfx.dsl.Pipeline:
    gen = SequenceExampleGen(
        config.source, config.data, input_fingerprint=fingerprint(config.source)
    )
    statistics = tfx.components.StatisticsGen(examples=gen.outputs["examples"])
    schema = tfx.components.SchemaGen(statistics=statistics.outputs["statistics"])
    validator = tfx.components.ExampleValidator(
        statistics=statistics.outputs["statistics"], schema=schema.outputs["schema"]
    )
    trainer = tfx.components.Trainer(
        run_fn=TRAINER_RUN_FN,
        examples=gen.outputs["examples"],
        schema=schema.outputs["schema"],
        train_args=tfx.proto.TrainArgs(splits=[features.SPLIT_TRAIN]),
        eval_args=tfx.proto.EvalArgs(splits=[features.SPLIT_EVAL]),
        custom_config=config.trainer_custom_config(),
    )
    baseline = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    evaluator = tfx.components.Evaluator(
        examples=gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
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
            baseline,
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
