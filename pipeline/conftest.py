"""Fixtures of the pipeline's tests."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap

import pytest


@pytest.fixture
def run_holding():
    """`with run_holding(output_root) as pid:` another process holds the output root's run
    lock (as a run in progress does) until the block ends."""

    @contextlib.contextmanager
    def hold(output_root):
        script = textwrap.dedent(
            f"""
            import sys
            from components.sequence_gen.config import SourceConfig
            from pipeline.config import PipelineConfig
            from pipeline.run_lock import output_root_lock
            config = PipelineConfig(SourceConfig(paths=("x",)), output_root={str(output_root)!r})
            with output_root_lock(config):
                print("held", flush=True)
                sys.stdin.readline()
            """
        )
        holder = subprocess.Popen(
            [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout.readline().strip() == "held"
            yield holder.pid
        finally:
            holder.stdin.close()
            holder.wait(timeout=60)

    return hold
