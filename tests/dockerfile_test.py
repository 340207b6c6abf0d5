"""The pipeline image's Dockerfile (no Docker engine here: checked statically)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _copied_sources() -> list[str]:
    sources = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    return sources


def test_every_copied_path_exists():
    for source in _copied_sources():
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_the_image_installs_the_lock_then_the_project_from_setup_py():
    lock = DOCKERFILE.index("pip install -r requirements.lock")
    project = DOCKERFILE.index("pip install --no-deps .")
    assert lock < project
    assert "FROM python:3.10" in DOCKERFILE
    assert "TF_USE_LEGACY_KERAS=1" in DOCKERFILE


def test_what_setup_py_reads_and_packages_is_in_the_image():
    copied = set(_copied_sources())
    setup = (ROOT / "setup.py").read_text()
    for read in re.findall(r'HERE / "([^"]+)"', setup):
        assert read in copied, f"setup.py reads {read}; the Dockerfile does not copy it"
    packages = re.findall(r'"([a-z_]+)",\n', setup.split("find_packages(")[1].split("exclude")[0])
    for package in packages:
        assert package in copied, f"package {package} is not copied into the image"
    for module in re.findall(r'py_modules=\["([a-z_]+)"\]', setup):
        assert f"{module}.py" in copied


def test_the_beam_sdk_in_the_image_matches_the_locked_beam():
    locked = re.search(r"^apache-beam==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M)
    sdk = re.search(r"apache/beam_python3\.10_sdk:(\S+)", DOCKERFILE)
    assert locked and sdk and locked.group(1) == sdk.group(1)
