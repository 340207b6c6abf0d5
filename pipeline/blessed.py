"""The last blessed model, as the Evaluator's gate will compare with it.

A model blessed by an earlier version of the pipeline may lack the `ranks` signature the
metrics of this one are computed from (the full-catalog ranks and the popularity baseline).
TFMA cannot compare on a signature the baseline does not have, so such a run is gated on the
floor and the popularity baseline alone, and its report says so.
"""

from __future__ import annotations

import dataclasses
import os

from pipeline.config import PipelineConfig
from sair_keras.export import EVAL_SIGNATURE

SERVING_SUBDIR = "Format-Serving"  # where TFX's Trainer puts the serving SavedModel


@dataclasses.dataclass(frozen=True)
class Baseline:
    """uri: the last blessed model's artifact, or None when nothing was blessed yet.
    comparable: whether the gate can compare with it (it has the `ranks` signature)."""

    uri: str | None = None
    comparable: bool = True

    @property
    def note(self) -> str | None:
        if self.uri is None or self.comparable:
            return None
        return (
            f"the last blessed model ({self.uri}) predates the metrics of this gate (it has "
            f"no '{EVAL_SIGNATURE}' signature), so this run was not compared with it: it was "
            "gated on the floor and the popularity baseline alone"
        )


def latest_blessed_model_uri(config: PipelineConfig) -> str | None:
    """The artifact uri of the newest model a ModelBlessing blessed, from ML Metadata."""
    if "://" in config.metadata_path or not os.path.exists(config.metadata_path):
        return None
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    c = metadata_store_pb2.ConnectionConfig()
    c.sqlite.filename_uri = config.metadata_path
    c.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    store = metadata_store.MetadataStore(c)
    try:
        blessings = store.get_artifacts_by_type("ModelBlessing")
    except Exception:  # no such type yet: nothing was evaluated  # noqa: BLE001
        return None
    blessed = [
        b
        for b in blessings
        if b.custom_properties["blessed"].int_value == 1
        and "current_model_id" in b.custom_properties
    ]
    if not blessed:
        return None
    # As LatestBlessedModelStrategy: the newest model (highest id) that was blessed.
    model_id = max(b.custom_properties["current_model_id"].int_value for b in blessed)
    models = store.get_artifacts_by_id([model_id])
    return models[0].uri if models else None


def has_eval_signature(model_uri: str) -> bool:
    """Whether the serving SavedModel under a Model artifact has the `ranks` signature."""
    from tensorflow.python.saved_model import loader_impl

    path = os.path.join(model_uri, SERVING_SUBDIR)
    try:
        saved = loader_impl.parse_saved_model(path)
    except OSError:
        return False
    return any(EVAL_SIGNATURE in g.signature_def for g in saved.meta_graphs)


def baseline(config: PipelineConfig) -> Baseline:
    """What the next run's gate compares with (local ML Metadata only; elsewhere it
    compares with whatever the Resolver finds)."""
    uri = latest_blessed_model_uri(config)
    if uri is None:
        return Baseline()
    return Baseline(uri, has_eval_signature(uri))
