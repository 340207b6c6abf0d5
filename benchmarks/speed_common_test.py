"""speed_common: the machine record of a speed result."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import speed_common  # noqa: E402


def test_the_environment_names_the_processor(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: avx512f\n")
    assert speed_common.cpu_model(str(cpuinfo)) == "AMD EPYC 9R14"
    assert speed_common.cpu_model(str(tmp_path / "missing"))  # falls back to `platform`
    env = speed_common.environment("a setup", tf_threads=1)
    assert env["cpu"] == speed_common.cpu_model()
    assert (env["setup"], env["tf_threads"], env["cpus"] >= 1) == ("a setup", 1, True)


def test_the_environment_without_a_setup_records_the_machine_and_the_extras():
    env = speed_common.environment(command="python benchmarks/quality.py --dataset ml-100k")
    assert "setup" not in env
    assert env["memory_gb"] > 0 and env["cpu"] and env["python"].startswith("3.")
    assert env["command"] == "python benchmarks/quality.py --dataset ml-100k"
