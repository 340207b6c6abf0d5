"""The model a recorded benchmark run exported, rebuilt and checked against its record."""

from __future__ import annotations

import os


def load_run_model(outputs, run: dict, model_dir: str, test_ds):
    """The Keras model of `run` (a run of `benchmarks/results/<dataset>.json`) with the
    weights of the SavedModel `quality.py --export-dir` wrote for it.

    `outputs` is the ingestion the run was evaluated on (`quality.ingest`) and `test_ds` its
    test split. The rebuilt model must reproduce the run's recorded test `hr_10` and
    `ndcg_10` to 1e-6, else this refuses (SystemExit): it is not this run's model.
    """
    import tensorflow as tf

    from sair_keras import train
    from sair_keras.catalog import Catalog
    from sair_keras.config import ModelConfig
    from sair_keras.model import build_model

    model = build_model(
        Catalog.load(outputs.vocabulary_dir), ModelConfig.from_dict(run["model_config"])
    )
    # The SavedModel's root is the serving module; its `model` is the Keras model.
    variables = os.path.join(model_dir, "variables", "variables")
    tf.train.Checkpoint(model=model).read(variables).assert_existing_objects_matched()
    got = train.evaluate(model, test_ds, full_catalog=False)
    for name in ("hr_10", "ndcg_10"):
        if abs(got[name] - run["test"][name]) > 1e-6:
            raise SystemExit(
                f"{model_dir} gives test {name} {got[name]}, the run recorded "
                f"{run['test'][name]}: not this run's model"
            )
    return model
