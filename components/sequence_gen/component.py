"""SequenceExampleGen: a TFX component turning an interaction log into SAIR's sequence examples.

Outputs: `examples` (Examples with splits train / eval / test), `schema` (their Schema),
`vocabulary` (ItemVocabulary: raw ids ↔ indices, item categories) and `report` (DataReport:
data_report.json). The Beam work is `ingest.build_pipeline`, the same code as
`pipeline_runner.py ingest`.
"""

from __future__ import annotations

from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import artifact, component_spec, standard_artifacts

from components.sequence_gen import executor
from components.sequence_gen.config import DataConfig, SourceConfig


class ItemVocabulary(artifact.Artifact):
    """items.tsv and categories.tsv (see vocabulary.py)."""

    TYPE_NAME = "sair.ItemVocabulary"  # namespace.Name, as Kubeflow V2 requires


class DataReport(artifact.Artifact):
    """data_report.json: Table I statistics and the accounting of every row read."""

    TYPE_NAME = "sair.DataReport"


class SequenceExampleGenSpec(component_spec.ComponentSpec):
    PARAMETERS = {
        "source_config": component_spec.ExecutionParameter(type=str),
        "data_config": component_spec.ExecutionParameter(type=str),
        # Changes when the input files change, so that a cached result is not reused.
        "input_fingerprint": component_spec.ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {}
    OUTPUTS = {
        "examples": component_spec.ChannelParameter(type=standard_artifacts.Examples),
        "schema": component_spec.ChannelParameter(type=standard_artifacts.Schema),
        "vocabulary": component_spec.ChannelParameter(type=ItemVocabulary),
        "report": component_spec.ChannelParameter(type=DataReport),
    }


class SequenceExampleGen(base_beam_component.BaseBeamComponent):
    SPEC_CLASS = SequenceExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        source: SourceConfig,
        data_config: DataConfig | None = None,
        input_fingerprint: str | None = None,
    ):
        """Args:
        source: the interaction files and their column mapping.
        data_config: the ingestion rules; defaults are the paper's.
        input_fingerprint: e.g. `executor.fingerprint(source)`; a changed value reruns the
          component instead of reusing a cached result.
        """
        data_config = data_config or DataConfig()
        spec = SequenceExampleGenSpec(
            source_config=source.to_json(),
            data_config=data_config.to_json(),
            input_fingerprint=input_fingerprint,
            examples=_channel(standard_artifacts.Examples),
            schema=_channel(standard_artifacts.Schema),
            vocabulary=_channel(ItemVocabulary),
            report=_channel(DataReport),
        )
        super().__init__(spec=spec)


def _channel(artifact_type):
    from tfx.types import channel_utils

    return channel_utils.as_channel([artifact_type()])
