"""The console policy: the run's own lines on the terminal, everything else in a log file."""

import io
import logging
import os
import sys
import types

from pipeline import console


def test_third_party_records_go_to_the_log_file_and_the_run_s_lines_to_the_terminal(tmp_path):
    stream = io.StringIO()
    path = console.log_path(str(tmp_path))
    console.route_logs(path, verbose=False, stream=stream)
    try:
        logging.getLogger("absl").warning("ArtifactQuery.property_predicate is not supported.")
        logging.getLogger("apache_beam.runners").warning("Worker: severity: WARN")
        logging.getLogger("sair.trainer").info("epoch 3: loss 0.5")
        for handler in logging.getLogger().handlers:
            handler.flush()
        printed = stream.getvalue()
        assert printed.count("epoch 3: loss 0.5") == 1  # once: no second, root handler
        assert "property_predicate" not in printed and "severity" not in printed
        logged = open(path, encoding="utf-8").read()
        assert "property_predicate" in logged and "epoch 3" in logged
        assert os.path.dirname(path) == str(tmp_path / console.LOG_SUBDIR)
    finally:
        for handler in list(logging.getLogger().handlers):
            logging.getLogger().removeHandler(handler)
        logging.getLogger("sair").handlers.clear()


def test_verbose_prints_everything(tmp_path):
    stream = io.StringIO()
    console.route_logs(console.log_path(str(tmp_path)), verbose=True, stream=stream)
    try:
        logging.getLogger("absl").warning("a third-party line")
        assert "a third-party line" in stream.getvalue()
    finally:
        for handler in list(logging.getLogger().handlers):
            logging.getLogger().removeHandler(handler)


def test_worker_processes_inherit_the_warning_filter_and_shutdown_noise_is_dropped(monkeypatch):
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    console.quiet_environment(verbose=False)
    assert "ignore::FutureWarning" in os.environ["PYTHONWARNINGS"]

    class AtomicFunction:
        def __del__(self):
            pass

    noise = types.SimpleNamespace(object=AtomicFunction.__del__, exc_value=TypeError())
    other = types.SimpleNamespace(object=print, exc_value=ValueError())
    sys.unraisablehook(noise)
    sys.unraisablehook(other)
    assert seen == [other]


def test_standard_error_of_this_process_and_its_children_goes_to_the_log_file(tmp_path):
    import subprocess

    with console.to_log_file(str(tmp_path), verbose=False) as (terminal, path):
        os.write(2, b"C++ start-up line\n")
        subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('worker noise')"])
        terminal.write("our line\n")
    os.write(2, b"")  # standard error is back
    logged = open(path, encoding="utf-8").read()
    assert "C++ start-up line" in logged and "worker noise" in logged
    assert "our line" not in logged
    for handler in list(logging.getLogger().handlers):
        logging.getLogger().removeHandler(handler)
