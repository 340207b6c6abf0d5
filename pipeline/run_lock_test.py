"""One run at a time per output root."""

from __future__ import annotations

import pytest

from components.sequence_gen.config import SourceConfig
from pipeline.config import PipelineConfig
from pipeline.run_lock import lock_path, output_root_lock
from sair_keras.config import ConfigError


def _config(tmp_path) -> PipelineConfig:
    return PipelineConfig(source=SourceConfig(paths=("x.csv",)), output_root=str(tmp_path))


def test_a_second_holder_is_refused_with_the_first_named_and_can_run_after_it(
    tmp_path, run_holding
):
    config = _config(tmp_path)
    with run_holding(tmp_path) as pid:
        with pytest.raises(ConfigError, match=f"another run \\(pid {pid}\\) is using"):
            with output_root_lock(config):
                pass
    with output_root_lock(config) as path:  # free again once the first run ended
        assert path == lock_path(config)
