"""The run report of `pipeline_runner.py run`, read back from ML Metadata and the artifacts,
and the progress lines printed while the pipeline runs."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

from pipeline.config import PipelineConfig
from sair_keras.metric_names import (
    FULL_METRIC_NAMES,
    OVER_POPULARITY_SUFFIX,
    POPULARITY_PREFIX,
    SAMPLED_METRIC_NAMES,
)


class ComponentProgress(threading.Thread):
    """Prints one line per component start and end, with its duration, by watching the run's
    executions in ML Metadata (works whatever the orchestrator logs); keeps the durations."""

    def __init__(self, config: PipelineConfig, stream=sys.stderr, interval_s: float = 0.5):
        super().__init__(daemon=True)
        self.config = config
        self.stream = stream
        self.interval_s = interval_s
        self.seconds: dict[str, float] = {}
        self._announced: set[int] = set()
        self._stop_event = threading.Event()
        self._known_before = self._existing()  # executions of earlier runs

    def _existing(self) -> set[int]:
        if not os.path.exists(self.config.metadata_path):
            return set()
        return {e.id for e in _store(self.config).get_executions()}

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.poll()
            self._stop_event.wait(self.interval_s)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.poll()

    def poll(self) -> None:
        if not os.path.exists(self.config.metadata_path):
            return
        try:
            store = _store(self.config)
            executions = store.get_executions()
        except Exception:  # the runner may be creating the database  # noqa: BLE001
            return
        for e in executions:
            if e.id in self._known_before:
                continue
            name = _node_name(store, e)
            if e.id not in self._announced:
                self._announced.add(e.id)
                self._say(f"{name} started")
            done = e.last_known_state in (e.COMPLETE, e.CACHED, e.FAILED, e.CANCELED)
            if done and name not in self.seconds:
                seconds = (e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000
                self.seconds[name] = round(seconds, 1)
                how = {e.CACHED: " (cached)", e.FAILED: " FAILED"}.get(e.last_known_state, "")
                self._say(f"{name} finished in {seconds:.1f} s{how}")

    def _say(self, text: str) -> None:
        print(f"[sair {time.strftime('%H:%M:%S')}] {text}", file=self.stream, flush=True)


def _node_name(store, execution) -> str:
    for context in store.get_contexts_by_execution(execution.id):
        if "." in context.name and context.type_id in _node_type_ids(store):
            return context.name.split(".", 1)[1]
    return str(execution.id)


def _node_type_ids(store) -> set[int]:
    return {t.id for t in store.get_context_types() if t.name == "node"}


def _store(config: PipelineConfig):
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    c = metadata_store_pb2.ConnectionConfig()
    c.sqlite.filename_uri = config.metadata_path
    c.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(c)


def pipeline_runs(config: PipelineConfig) -> set[int]:
    """The ids of the pipeline runs the metadata store holds (none before the first)."""
    if not os.path.exists(config.metadata_path):
        return set()
    return {c.id for c in _store(config).get_contexts_by_type("pipeline_run")}


def latest_outputs(config: PipelineConfig, earlier_runs: set[int] = frozenset()) -> dict[str, Any]:
    """Artifacts of the newest pipeline run that is not one of `earlier_runs` (the runs
    before this one), by type name (cached ones included)."""
    store = _store(config)
    runs = [c for c in store.get_contexts_by_type("pipeline_run") if c.id not in earlier_runs]
    if not runs:
        return {}
    run = max(runs, key=lambda c: c.create_time_since_epoch)
    executions = store.get_executions_by_context(run.id)
    events = store.get_events_by_execution_ids([e.id for e in executions])
    out_ids = {e.artifact_id for e in events if e.type == e.OUTPUT}
    artifacts = store.get_artifacts_by_id(list(out_ids))
    types = {t.id: t.name for t in store.get_artifact_types()}
    by_type: dict[str, Any] = {}
    for a in sorted(artifacts, key=lambda a: a.id):
        by_type[types[a.type_id]] = a
    by_type["_cached"] = sum(1 for e in executions if e.last_known_state == e.CACHED)
    by_type["_executions"] = len(executions)
    return by_type


def build_report(
    config: PipelineConfig,
    seconds: dict[str, float],
    baseline=None,
    earlier_runs: set[int] = frozenset(),
) -> dict[str, Any]:
    """The run report: the data report, the test metrics (sampled and full-catalog, and the
    popularity baseline's gate metric), the gate (`gate_metric`, what it compared with) and
    its verdict, the pushed model and the batch recommendations. `baseline`: the
    `pipeline.blessed.Baseline` the run was gated against; `earlier_runs`: the pipeline
    runs before this one (`pipeline_runs`), which the report never reads."""
    import tensorflow_model_analysis as tfma

    from components.batch_recommend.component import Recommendations
    from components.sequence_gen import report as data_report
    from components.sequence_gen.component import DataReport

    out = latest_outputs(config, earlier_runs)
    e = config.evaluation
    report: dict[str, Any] = {
        "data": None,
        "metrics": {},
        "gate_metric": e.gate_metric,
        "gate": {
            "metric": e.gate_metric,
            "floor": e.gate_floor,
            "regression_tolerance": e.regression_tolerance,
            "beat_popularity": e.beat_popularity,
            "compared_with": None,
            "notes": [],
        },
        "blessed": False,
        "pushed_model": None,
        "recommendations": None,
        "component_seconds": seconds,
        "not_blessed_because": [],
        "cached_components": out.get("_cached"),
    }
    if baseline is not None and baseline.note:
        report["gate"]["notes"].append(baseline.note)
    if DataReport.TYPE_NAME in out:
        report["data"] = data_report.read_report(
            os.path.join(out[DataReport.TYPE_NAME].uri, data_report.REPORT_FILE)
        )
    if "ModelEvaluation" in out:
        uri = out["ModelEvaluation"].uri
        result = tfma.load_eval_result(uri)
        for slice_key, metrics in result.slicing_metrics:
            if slice_key == ():
                values = {
                    k: round(v["doubleValue"], 4)
                    for k, v in sorted(metrics[""][""].items())
                    if "doubleValue" in v
                }
                report["metrics"]["test"] = {
                    k: v for k, v in values.items() if not k.endswith("_diff")
                }
                diff = {k[: -len("_diff")]: v for k, v in values.items() if k.endswith("_diff")}
                if diff:  # against the last blessed model
                    report["metrics"]["test_change_vs_blessed"] = diff
                    if baseline is not None and baseline.uri:
                        report["gate"]["compared_with"] = baseline.uri
        validation = tfma.load_validation_result(uri)
        for failure in validation.metric_validations_per_slice:
            for f in failure.failures:
                report["not_blessed_because"].append(_failure_text(f))
    _drop_unsampled(report)
    if "ModelBlessing" in out:
        blessing = out["ModelBlessing"]
        report["blessed"] = bool(blessing.custom_properties["blessed"].int_value)
    if not report["blessed"] and not report["not_blessed_because"]:
        report["not_blessed_because"].append(_unexplained_refusal(report, out))
    if "PushedModel" in out:
        pushed = out["PushedModel"]
        if pushed.custom_properties["pushed"].int_value:
            report["pushed_model"] = pushed.custom_properties["pushed_destination"].string_value
    if Recommendations.TYPE_NAME in out:
        recs = out[Recommendations.TYPE_NAME]
        if "skipped_because" not in recs.custom_properties:
            report["recommendations"] = {
                "uri": recs.uri,
                "users": recs.custom_properties["users"].int_value,
            }
    return report


def _failure_text(failure) -> str:
    """A TFMA metric validation failure in words."""
    name = failure.metric_key.name
    value = failure.metric_value.double_value.value
    t = failure.metric_threshold
    if name.endswith(OVER_POPULARITY_SUFFIX):
        metric = name[: -len(OVER_POPULARITY_SUFFIX)]
        return (
            f"{metric} does not beat the popularity baseline's: the model minus popularity is "
            f"{value:+.4f}"
        )
    if failure.metric_key.is_diff:
        bound = t.change_threshold.absolute.value
        return (
            f"{name} is {value:+.4f} from the last blessed model's, below the tolerated "
            f"{bound:+.4f} (regression_tolerance)"
        )
    if t.HasField("value_threshold"):
        return (
            f"{name} {value:.4f} is below the floor "
            f"{t.value_threshold.lower_bound.value:.4f} (gate_floor)"
        )
    return f"{name}: {failure.message}".strip()


def _drop_unsampled(report: dict[str, Any]) -> None:
    """Sampled metrics are means over the users that have negatives: with none (a catalog
    smaller than num_eval_negatives) they are not reported."""
    data, test = report.get("data") or {}, report["metrics"].get("test")
    if not data or not test:
        return
    users = data.get("examples", {}).get("test", 0)
    without = data.get("users_without_sampled_negatives", {}).get("test", 0)
    if users and without == users:
        for name in list(test):
            if name.removeprefix(POPULARITY_PREFIX) in SAMPLED_METRIC_NAMES:
                del test[name]
        report["metrics"]["sampled_metrics_missing_because"] = (
            f"no test user has {data.get('num_eval_negatives')} unseen items to draw the "
            "sampled negatives from; the full-catalog metrics cover every test user"
        )


def _unexplained_refusal(report: dict[str, Any], out: dict[str, Any]) -> str:
    """Why a model is not blessed when TFMA listed no failed metric."""
    if "ModelEvaluation" not in out:
        return "the Evaluator did not run (an earlier component failed or was skipped)"
    if not report["metrics"].get("test"):
        return "the Evaluator computed no metrics: the test split holds no evaluable example"
    if report["gate_metric"] not in report["metrics"]["test"]:
        return f"the gate metric {report['gate_metric']} was not computed"
    return (
        "the Evaluator's validation failed without naming a metric; see "
        f"{out['ModelEvaluation'].uri}"
    )


def format_metrics(report: dict[str, Any]) -> str:
    """The printed table: sampled and full-catalog test metrics, the gate and its verdict."""
    metrics = report["metrics"].get("test", {})
    gate = report["gate_metric"]
    names = list(dict.fromkeys((*SAMPLED_METRIC_NAMES, *FULL_METRIC_NAMES, gate)))
    names.append(POPULARITY_PREFIX + gate)
    lines = ["test metric             value", "-----------             ------"]
    for n in names:
        if n in metrics:
            mark = "  (gate)" if n == gate else ""
            lines.append(f"{n:<23} {metrics[n]:.4f}{mark}")
    if "sampled_metrics_missing_because" in report["metrics"]:
        lines.append(
            f"sampled metrics: none ({report['metrics']['sampled_metrics_missing_because']})"
        )
    for note in report["gate"]["notes"]:
        lines.append(f"gate: {note}")
    lines.append(f"blessed: {report['blessed']}")
    for reason in report["not_blessed_because"]:
        lines.append(f"  not blessed: {reason}")
    lines.append(f"pushed model: {report['pushed_model'] or 'none (not blessed)'}")
    recs = report.get("recommendations")
    if recs:
        lines.append(f"recommendations: top-N for {recs['users']} users in {recs['uri']}")
    return "\n".join(lines)


def write(report: dict[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
