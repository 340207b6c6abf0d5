"""SequenceExampleGen's spec and its executor run on artifacts in a temporary folder."""

import json
import os

from tfx.types import artifact_utils, standard_artifacts

from components.sequence_gen import component, executor, synthetic
from components.sequence_gen.config import DataConfig, SourceConfig

TINY = synthetic.SyntheticConfig(num_users=40, num_items=60, num_categories=5, mean_length=8)


def test_component_declares_its_outputs_and_parameters(tmp_path):
    source = synthetic.source_config(synthetic.generate(TINY, tmp_path))
    c = component.SequenceExampleGen(source, DataConfig(max_len=20))
    assert set(c.outputs) == {"examples", "schema", "vocabulary", "report"}
    assert c.outputs["vocabulary"].type is component.ItemVocabulary
    assert SourceConfig.from_json(c.exec_properties["source_config"]) == source
    assert DataConfig.from_json(c.exec_properties["data_config"]).max_len == 20


def test_fingerprint_changes_with_the_input(tmp_path):
    d = synthetic.generate(TINY, tmp_path)
    source = synthetic.source_config(d)
    before = executor.fingerprint(source)
    assert executor.fingerprint(source) == before
    with open(d / synthetic.INTERACTIONS_FILE, "a") as f:
        f.write("1,1,1,1\n")
    assert executor.fingerprint(source) != before


def test_executor_writes_every_output_artifact(tmp_path):
    source = synthetic.source_config(synthetic.generate(TINY, tmp_path / "in"))

    def artifact(cls, name):
        a = cls()
        a.uri = str(tmp_path / "out" / name)
        os.makedirs(a.uri, exist_ok=True)
        return a

    outputs = {
        "examples": [artifact(standard_artifacts.Examples, "examples")],
        "schema": [artifact(standard_artifacts.Schema, "schema")],
        "vocabulary": [artifact(component.ItemVocabulary, "vocabulary")],
        "report": [artifact(component.DataReport, "report")],
    }
    props = {
        "source_config": source.to_json(),
        "data_config": DataConfig(num_eval_negatives=5).to_json(),
    }
    executor.Executor().Do({}, outputs, props)

    examples = outputs["examples"][0]
    assert artifact_utils.decode_split_names(examples.split_names) == ["train", "eval", "test"]
    for split in ("train", "eval", "test"):
        assert os.listdir(artifact_utils.get_split_uri([examples], split))
    assert os.path.exists(os.path.join(outputs["schema"][0].uri, "schema.pbtxt"))
    assert sorted(os.listdir(outputs["vocabulary"][0].uri)) == [
        "categories.tsv",
        "items.tsv",
        "max_len.txt",
        "train_counts.tsv",
    ]
    report = json.loads(open(os.path.join(outputs["report"][0].uri, "data_report.json")).read())
    assert report["users"] == TINY.num_users
    assert outputs["report"][0].get_int_custom_property("rows_kept") == report["rows_kept"]
