"""SequenceExampleGen inside a real TFX pipeline: LocalDagRunner, SQLite ML Metadata."""

import os

from tfx import v1 as tfx

from components.sequence_gen import component, executor, synthetic
from components.sequence_gen.config import DataConfig

TINY = synthetic.SyntheticConfig(num_users=30, num_items=50, num_categories=4, mean_length=6)


def _pipeline(root, source):
    gen = component.SequenceExampleGen(
        source, DataConfig(num_eval_negatives=5), input_fingerprint=executor.fingerprint(source)
    )
    return tfx.dsl.Pipeline(
        pipeline_name="sequence-example-gen-test",
        pipeline_root=str(root / "pipeline"),
        components=[gen],
        enable_cache=True,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(root / "metadata.sqlite")
        ),
        beam_pipeline_args=["--direct_running_mode=in_memory"],
    )


def _executions(root):
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(root / "metadata.sqlite")
    store = metadata_store.MetadataStore(config)
    return store.get_executions(), store.get_artifacts()


def test_runs_in_local_dag_runner_and_is_cached_until_the_input_changes(tmp_path):
    d = synthetic.generate(TINY, tmp_path / "in")
    source = synthetic.source_config(d)
    tfx.orchestration.LocalDagRunner().run(_pipeline(tmp_path, source))
    executions, artifacts = _executions(tmp_path)
    assert len(executions) == 1
    types = {a.uri.split(os.sep)[-2] for a in artifacts}
    assert types == {"examples", "schema", "vocabulary", "report"}

    tfx.orchestration.LocalDagRunner().run(_pipeline(tmp_path, source))
    executions, artifacts = _executions(tmp_path)
    assert len(executions) == 2
    assert len(artifacts) == 4  # the second run reused the first one's outputs

    with open(d / synthetic.INTERACTIONS_FILE, "a") as f:
        f.write("1,1,1999999999,5\n")
    tfx.orchestration.LocalDagRunner().run(_pipeline(tmp_path, source))
    _, artifacts = _executions(tmp_path)
    assert len(artifacts) == 8  # a changed input runs the component again
