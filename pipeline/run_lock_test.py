"""One run at a time per output root."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from components.sequence_gen.config import SourceConfig
from pipeline.config import PipelineConfig
from pipeline.run_lock import lock_path, output_root_lock
from sair_keras.config import ConfigError


def _config(tmp_path) -> PipelineConfig:
    return PipelineConfig(source=SourceConfig(paths=("x.csv",)), output_root=str(tmp_path))


def test_a_second_holder_is_refused_with_the_first_named_and_can_run_after_it(tmp_path):
    config = _config(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pipeline.config import PipelineConfig
                from pipeline.run_lock import output_root_lock
                from components.sequence_gen.config import SourceConfig
                source = SourceConfig(paths=("x.csv",))
                config = PipelineConfig(source, output_root={str(tmp_path)!r})
                with output_root_lock(config):
                    print("held", flush=True)
                    sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=f"another run \\(pid {holder.pid}\\) is using"):
            with output_root_lock(config):
                pass
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    with output_root_lock(config) as path:  # free again once the first run ended
        assert path == lock_path(config)
