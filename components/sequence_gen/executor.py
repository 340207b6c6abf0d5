"""The executor of SequenceExampleGen: runs `ingest.run_ingestion` on the component's Beam."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from apache_beam.io.filesystems import FileSystems
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils

from components.sequence_gen import ingest
from components.sequence_gen.config import DataConfig, SourceConfig
from sair_keras import features


def fingerprint(source: SourceConfig) -> str:
    """Path, size and modification time of every local input file, hashed.

    Remote paths (gs://, s3://, …) count by their name only: the pipeline is often built
    or compiled where they cannot be listed (and listing them there would be slow). Give
    changed remote data a new path (e.g. dated) or run without the cache."""
    paths = list(source.paths) + ([source.items.path] if source.items else [])
    parts = []
    for path in paths:
        if "://" in path:
            parts.append(path)
            continue
        for m in FileSystems.match([path])[0].metadata_list:
            parts.append(f"{m.path}:{m.size_in_bytes}:{m.last_updated_in_seconds}")
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()


class Executor(base_beam_executor.BaseBeamExecutor):
    def Do(  # noqa: N802 (TFX interface)
        self,
        input_dict: dict[str, list[Any]],
        output_dict: dict[str, list[Any]],
        exec_properties: dict[str, Any],
    ) -> None:
        source = SourceConfig.from_json(exec_properties["source_config"])
        config = DataConfig.from_json(exec_properties["data_config"])
        examples = artifact_utils.get_single_instance(output_dict["examples"])
        examples.split_names = artifact_utils.encode_split_names(list(features.SPLITS))
        report_artifact = artifact_utils.get_single_instance(output_dict["report"])
        outputs = ingest.IngestOutputs(
            examples_dir=examples.uri,
            schema_dir=artifact_utils.get_single_uri(output_dict["schema"]),
            vocabulary_dir=artifact_utils.get_single_uri(output_dict["vocabulary"]),
            report_dir=report_artifact.uri,
        )
        report = ingest.run_ingestion(source, config, outputs, self._make_beam_pipeline)
        for key in ("users", "items", "actions", "rows_read", "rows_kept"):
            report_artifact.set_int_custom_property(key, report[key])
        logging.info(
            "SequenceExampleGen: %d users, %d items, %d actions; %d of %d rows kept",
            report["users"],
            report["items"],
            report["actions"],
            report["rows_kept"],
            report["rows_read"],
        )
