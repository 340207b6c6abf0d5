"""The Evaluator's configuration: every ranking metric, the gate on the configured metric,
the popularity comparison."""

import json

import pytest

from components.sequence_gen.config import SourceConfig
from pipeline import pipeline
from pipeline.config import ConfigError, EvaluationConfig, PipelineConfig
from sair_keras import metric_names


def _config(**evaluation):
    return PipelineConfig(
        source=SourceConfig(paths=("x.csv",)), evaluation=EvaluationConfig(**evaluation)
    )


def _metrics(eval_config):
    return {
        m.config and json.loads(m.config)["name"]: m for m in eval_config.metrics_specs[0].metrics
    }


def test_every_ranking_metric_and_the_gate_on_full_ndcg_10_by_default():
    config = pipeline.eval_config(_config())
    metrics = _metrics(config)
    assert set(metric_names.METRIC_NAMES) <= set(metrics)
    gated = [name for name, m in metrics.items() if m.per_slice_thresholds]
    assert sorted(gated) == ["full_ndcg_10", "full_ndcg_10_over_popularity"]
    [per_slice] = metrics["full_ndcg_10"].per_slice_thresholds
    assert list(per_slice.slicing_specs) == [pipeline.tfma.SlicingSpec()]  # overall only
    gate = per_slice.threshold
    assert gate.value_threshold.lower_bound.value == 0.0
    assert gate.change_threshold.absolute.value == pytest.approx(-0.01)
    assert metrics["popularity_full_ndcg_10"].class_name == "RankingNDCG"
    assert json.loads(metrics["popularity_full_ndcg_10"].config)["popularity"] is True
    assert config.model_specs[0].signature_name == "ranks"


def test_the_gate_metric_floor_and_popularity_are_settings():
    metrics = _metrics(
        pipeline.eval_config(
            _config(
                gate_metric="hr_5", gate_floor=0.3, regression_tolerance=0.0, beat_popularity=False
            )
        )
    )
    gated = [name for name, m in metrics.items() if m.per_slice_thresholds]
    assert gated == ["hr_5"]
    threshold = metrics["hr_5"].per_slice_thresholds[0].threshold
    assert threshold.value_threshold.lower_bound.value == 0.3
    assert "popularity_hr_5" in metrics and "hr_5_over_popularity" in metrics
    # A gate metric at another cutoff is computed too.
    assert "full_hr_50" in _metrics(pipeline.eval_config(_config(gate_metric="full_hr_50")))


def test_an_unknown_gate_metric_is_refused():
    with pytest.raises(ConfigError, match="gate_metric: unknown ranking metric 'auc'"):
        EvaluationConfig(gate_metric="auc")


def test_without_the_blessed_model_the_resolver_is_not_wired():
    nodes = {
        c.id for c in pipeline.create_pipeline(_config(), compare_with_blessed=False).components
    }
    assert pipeline.BASELINE_RESOLVER not in nodes and "Evaluator" in nodes
    nodes = {c.id for c in pipeline.create_pipeline(_config()).components}
    assert pipeline.BASELINE_RESOLVER in nodes


def test_warm_start_gives_the_trainer_the_last_blessed_model():
    import dataclasses

    warm = dataclasses.replace(_config(), warm_start=True)
    built = pipeline.create_pipeline(warm, compare_with_blessed=False)
    trainer = next(c for c in built.components if c.id == "Trainer")
    assert "base_model" in trainer.inputs
    assert pipeline.BASELINE_RESOLVER in {c.id for c in built.components}
    assert pipeline.trainer_custom_config(warm)["warm_start"] is True
    cold = next(c for c in pipeline.create_pipeline(_config()).components if c.id == "Trainer")
    assert "base_model" not in cold.inputs
    assert "warm_start" not in pipeline.trainer_custom_config(_config())
