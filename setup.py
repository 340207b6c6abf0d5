"""SAIR on TFX: sequential recommendation with the SAIR model, trained and served with TFX."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def _locked(name: str) -> str:
    """The version of `name` in requirements.lock."""
    for line in (HERE / "requirements.lock").read_text().splitlines():
        if line.lower().startswith(name + "=="):
            return line.split("==", 1)[1].strip()
    raise ValueError(f"{name} is not in requirements.lock")


def _requirements() -> list[str]:
    """The direct dependencies, pinned as in requirements.in (the lock pins the rest)."""
    lines = (HERE / "requirements.in").read_text().splitlines()
    reqs = [line.split("#")[0].strip() for line in lines]
    dev = {"pytest", "ruff"}
    return [r for r in reqs if r and r not in dev]


setup(
    name="sair-tfx",
    version="0.1.0",
    description="SAIR (Self-Attentive Interest Retrieval) sequential recommendation on TFX",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10,<3.11",
    packages=find_packages(
        include=[
            "pipeline",
            "pipeline.*",
            "components",
            "components.*",
            "sair_keras",
            "sair_keras.*",
        ],
        exclude=["*_test"],
    ),
    package_data={"pipeline": ["demo.yaml"]},
    py_modules=["pipeline_runner"],
    install_requires=_requirements(),
    extras_require={
        "dev": ["pytest", "ruff"],
        # CUDA libraries for TensorFlow's GPU build, at the locked TensorFlow version.
        "gpu": [f"tensorflow[and-cuda]=={_locked('tensorflow')}"],
    },
    entry_points={"console_scripts": ["sair=pipeline_runner:main"]},
)
