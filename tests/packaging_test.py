"""setup.py: what an install of the project declares."""

import re
import runpy
from pathlib import Path

import setuptools

ROOT = Path(__file__).resolve().parent.parent


def _setup_kwargs(monkeypatch) -> dict:
    captured: dict = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kwargs: captured.update(kwargs))
    runpy.run_path(str(ROOT / "setup.py"))
    return captured


def test_the_gpu_extra_is_tensorflow_with_cuda_at_the_locked_version(monkeypatch):
    locked = re.search(r"^tensorflow==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M)
    extras = _setup_kwargs(monkeypatch)["extras_require"]
    assert extras["gpu"] == [f"tensorflow[and-cuda]=={locked.group(1)}"]
