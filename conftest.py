"""Shared pytest setup: Keras 2 for TensorFlow, and where the real MovieLens data lives."""

import os

import sair_keras  # noqa: F401  (Keras 2 for TensorFlow, before anything imports it)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (or $SAIR_SHARED_DATA); skips when absent."""
    root = Path(os.environ.get("SAIR_SHARED_DATA") or Path(__file__).parent.parent / "shared/data")
    if not root.is_dir():
        pytest.skip(f"real MovieLens data not found at {root}")
    return root


@pytest.fixture(scope="session")
def synthetic_ingested(tmp_path_factory):
    """A small synthetic log (120 users, 60 items) ingested once: its `IngestOutputs`, for
    tests that train on real examples. Read only."""
    import apache_beam as beam

    from components.sequence_gen import ingest, synthetic
    from components.sequence_gen.config import DataConfig

    root = tmp_path_factory.mktemp("synthetic_ingested")
    config = synthetic.SyntheticConfig(
        num_users=120, num_items=60, num_categories=4, mean_length=12, seed=3
    )
    outputs = ingest.IngestOutputs.under(str(root / "out"))
    ingest.run_ingestion(
        synthetic.source_config(synthetic.generate(config, root / "in")),
        DataConfig(num_eval_negatives=20),
        outputs,
        lambda: beam.Pipeline(),
    )
    return outputs
