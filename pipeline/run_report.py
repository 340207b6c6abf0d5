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


def latest_outputs(config: PipelineConfig) -> dict[str, Any]:
    """Artifacts of the newest pipeline run, by type name (cached ones included)."""
    store = _store(config)
    runs = [c for c in store.get_contexts_by_type("pipeline_run")]
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


def build_report(config: PipelineConfig, seconds: dict[str, float]) -> dict[str, Any]:
    import tensorflow_model_analysis as tfma

    from components.batch_recommend.component import Recommendations
    from components.sequence_gen import report as data_report
    from components.sequence_gen.component import DataReport

    out = latest_outputs(config)
    report: dict[str, Any] = {
        "data": None,
        "metrics": {},
        "blessed": False,
        "pushed_model": None,
        "recommendations": None,
        "component_seconds": seconds,
        "not_blessed_because": [],
        "cached_components": out.get("_cached"),
    }
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
        validation = tfma.load_validation_result(uri)
        for failure in validation.metric_validations_per_slice:
            for f in failure.failures:
                report["not_blessed_because"].append(f"{f.metric_key.name}: {f.message}".strip())
    if "ModelBlessing" in out:
        blessing = out["ModelBlessing"]
        report["blessed"] = bool(blessing.custom_properties["blessed"].int_value)
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


def format_metrics(report: dict[str, Any]) -> str:
    metrics = report["metrics"].get("test", {})
    names = [f"{m}_{k}" for m in ("hr", "ndcg") for k in (5, 10, 20)]
    lines = ["test metric   value", "-----------   ------"]
    lines += [f"{n:<13} {metrics[n]:.4f}" for n in names if n in metrics]
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
