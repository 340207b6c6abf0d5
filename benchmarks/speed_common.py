"""What the ML-1M speed benchmarks share: their command line and the machine record."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def describe_defaults(**model_settings) -> str:
    """The product's default configuration (DataConfig's, ModelConfig's, TrainConfig's
    defaults, `model_settings` over them) in a line, for a result's setup."""
    from components.sequence_gen.config import DataConfig
    from sair_keras.config import ModelConfig, TrainConfig

    m, t, d = ModelConfig(**model_settings), TrainConfig(), DataConfig()
    return (
        f"max_len {m.max_len}, training windows {d.training_windows}, batch {t.batch_size}, "
        f"dropout {m.dropout}, hidden {m.hidden_dim}, {m.num_blocks} blocks, "
        f"{m.num_heads} head(s), L={m.num_interests}, K={m.top_k}, Adam "
        f"{t.learning_rate:g} ({t.learning_rate_schedule} over {t.epochs} epochs), weight "
        f"averaging {t.weight_averaging:g}"
    )


def ml1m_parser(doc: str, results_name: str, variants: bool = True) -> argparse.ArgumentParser:
    """`--variants` (unless `variants=False`), `--shared-data` and `--results` (default
    `benchmarks/results/<name>`)."""
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if variants:
        p.add_argument("--variants", nargs="+", default=["sasrec", "sair"])
    p.add_argument("--shared-data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--results", default=str(ROOT / "benchmarks" / "results" / results_name))
    return p


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The processor's model name (Linux's /proc/cpuinfo), else what `platform` knows:
    speed results differ between processors with the same number of cores."""
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(setup: str | None = None, **extra) -> dict:
    """The machine (cores, processor, memory, Python) and the setup a result was measured
    on; `extra` adds what one benchmark records beside them."""
    env = {
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }
    if setup is not None:
        env["setup"] = setup
    return {**env, **extra}


@contextlib.contextmanager
def ingested_ml1m(shared_data: str) -> Iterator:
    """ML-1M ingested from `shared_data` into a temporary folder: its `IngestOutputs`.
    Inside, third-party output (Beam, TensorFlow) goes to a log file under
    `.benchmark-logs/`, whose path is printed; the console keeps the benchmark's lines."""
    from quality import ingest

    from pipeline import console

    console.quiet_environment(verbose=False)
    with (
        console.to_log_file(str(ROOT / ".benchmark-logs"), verbose=False) as (_, log_file),
        tempfile.TemporaryDirectory() as tmp,
    ):
        print(f"third-party output: {log_file}", flush=True)
        outputs, _ = ingest("ml-1m", Path(shared_data), Path(tmp))
        yield outputs


def write_results(path: str | Path, results: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from quality_summary import to_json  # one format for every results file

    path.write_text(to_json(results))
    print(f"wrote {path}")
