"""The run report's table and its reasons when a model is not blessed."""

from components.sequence_gen.config import SourceConfig
from pipeline import run_report
from pipeline.config import PipelineConfig


def _report(test, data=None, blessed=False, reasons=()):
    return {
        "data": data,
        "metrics": {"test": dict(test)},
        "gate_metric": "full_ndcg_10",
        "gate": {"notes": ["a note"]},
        "blessed": blessed,
        "not_blessed_because": list(reasons),
        "pushed_model": None,
    }


def test_the_table_holds_both_families_and_marks_the_gate():
    report = _report(
        {"hr_10": 0.8, "ndcg_10": 0.6, "full_ndcg_10": 0.16, "popularity_full_ndcg_10": 0.02}
    )
    text = run_report.format_metrics(report)
    lines = text.splitlines()
    assert any(line.startswith("hr_10") for line in lines)
    assert any(line.startswith("full_ndcg_10") and line.endswith("(gate)") for line in lines)
    assert any(line.startswith("popularity_full_ndcg_10") for line in lines)
    assert "gate: a note" in text


def test_sampled_metrics_are_dropped_when_no_user_has_negatives():
    data = {"examples": {"test": 60}, "users_without_sampled_negatives": {"test": 60}}
    data["num_eval_negatives"] = 100
    report = _report({"hr_10": 0.0, "full_hr_10": 0.3, "popularity_hr_10": 0.0}, data)
    run_report._drop_unsampled(report)
    assert set(report["metrics"]["test"]) == {"full_hr_10"}
    assert "100 unseen items" in report["metrics"]["sampled_metrics_missing_because"]


def test_a_refusal_without_a_failed_metric_is_still_explained():
    config = PipelineConfig(source=SourceConfig(paths=("x.csv",)))
    assert "did not run" in run_report._unexplained_refusal(_report({}), {})
    assert "computed no metrics" in run_report._unexplained_refusal(
        _report({}), {"ModelEvaluation": object()}
    )
    assert config.evaluation.gate_metric == "full_ndcg_10"


def _failure(name, value, is_diff=False, **threshold):
    from tensorflow_model_analysis.proto import (
        config_pb2,
        metrics_for_slice_pb2,
        validation_result_pb2,
    )

    return validation_result_pb2.ValidationFailure(
        metric_key=metrics_for_slice_pb2.MetricKey(name=name, is_diff=is_diff),
        metric_value=metrics_for_slice_pb2.MetricValue(double_value={"value": value}),
        metric_threshold=config_pb2.MetricThreshold(**threshold),
    )


def test_failures_read_as_what_the_gate_checked():
    from tensorflow_model_analysis.proto import config_pb2

    over = _failure("full_ndcg_10_over_popularity", -0.0123)
    assert run_report._failure_text(over) == (
        "full_ndcg_10 does not beat the popularity baseline's: the model minus popularity "
        "is -0.0123"
    )
    floor = _failure(
        "full_ndcg_10",
        0.05,
        value_threshold=config_pb2.GenericValueThreshold(lower_bound={"value": 0.1}),
    )
    assert (
        run_report._failure_text(floor)
        == "full_ndcg_10 0.0500 is below the floor 0.1000 (gate_floor)"
    )
    change = _failure(
        "full_ndcg_10",
        -0.02,
        is_diff=True,
        change_threshold=config_pb2.GenericChangeThreshold(absolute={"value": -0.01}),
    )
    assert "from the last blessed model's" in run_report._failure_text(change)
