"""`run`: the PipelineConfig its flags and file make (nothing is run here)."""

from __future__ import annotations

import pytest

import pipeline_runner
from components.sequence_gen import synthetic
from pipeline.cli import run
from sair_keras.config import ConfigError, TrainConfig


def _config(tmp_path, *argv: str, beam_args: list[str] | None = None):
    data = tmp_path / "demo"
    data.mkdir(exist_ok=True)
    (data / synthetic.INTERACTIONS_FILE).write_text("")  # the demo's log, already there
    args = pipeline_runner.build_parser().parse_args(
        ["run", "--data-dir", str(data), "--output-root", str(tmp_path / "out"), *argv]
    )
    return run.build_config(args, beam_args or [])


def test_the_demo_gets_its_settings_and_flags_override_them(tmp_path):
    demo = _config(tmp_path)
    assert (demo.data.max_len, demo.model.max_len, demo.train.epochs) == (50, 50, 30)
    config = _config(tmp_path, "--max-len", "20", "--epochs", "4", "--variant", "sasrec")
    assert (config.data.max_len, config.model.max_len, config.train.epochs) == (20, 20, 4)
    assert config.model.variant == "sasrec"
    assert config.output_root == str((tmp_path / "out").resolve())


def test_untrained_beam_args_and_cache(tmp_path):
    config = _config(
        tmp_path, "--untrained", "--no-cache", beam_args=["--direct_running_mode=in_memory"]
    )
    assert config.train.epochs == 0
    assert config.enable_cache is False
    assert config.beam_args == ("--direct_running_mode=in_memory",)


def test_a_file_with_a_source_is_used_as_is(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("source: {paths: [events.csv], name: shop}\ndata: {max_len: 30}\n")
    config = _config(tmp_path, "--config", str(cfg))
    assert config.source.name == "shop"
    # No demo settings (its 30 epochs): TrainConfig's.
    assert (config.data.max_len, config.train.epochs) == (30, TrainConfig().epochs)


def test_a_contradiction_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="top_k K=5 exceeds the interest pool L=3"):
        _config(tmp_path, "--num-interests", "3", "--top-k", "5")


def test_a_second_run_on_a_busy_output_root_stops_at_once_with_a_message(
    tmp_path, capsys, run_holding
):
    out = tmp_path / "out"
    data = tmp_path / "demo"
    data.mkdir()
    (data / synthetic.INTERACTIONS_FILE).write_text("")
    with run_holding(out) as pid:  # the first run, holding the output root
        argv = ["run", "--data-dir", str(data), "--output-root", str(out)]
        assert pipeline_runner.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    assert err[-1:] == [
        f"error: another run (pid {pid}) is using {out.resolve()}; wait for it to end "
        f"or give another --output-root (lock: {out.resolve() / 'metadata.sqlite.lock'})"
    ]
    assert not (out / "pipeline").exists()
