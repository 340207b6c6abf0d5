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
