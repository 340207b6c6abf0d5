"""What a run prints, and where everything else goes.

The terminal gets the run's own lines (component start and end, training progress, the
final tables); every log record of TFX, Beam, TensorFlow and absl goes to a log file under
the output root (`logs/run-<time>.log`). `verbose` sends those to the terminal too.

Call `quiet_environment` before any component starts (Beam's worker processes inherit the
environment), then `route_logs`.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings

LOG_SUBDIR = "logs"
PROGRESS_LOGGER = "sair"  # the run's own lines: the Trainer's epochs
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def quiet_environment(verbose: bool) -> None:
    """Silences what third-party code prints without a logger, in this process and in the
    processes it starts: Python-version `FutureWarning`s of Google client libraries and
    TensorFlow's C++ start-up lines."""
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    filters = os.environ.get("PYTHONWARNINGS", "")
    if "ignore::FutureWarning" not in filters:
        os.environ["PYTHONWARNINGS"] = ",".join(f for f in (filters, "ignore::FutureWarning") if f)
    warnings.filterwarnings("ignore", category=FutureWarning)
    sys.unraisablehook = _drop_shutdown_noise(sys.unraisablehook)


def _drop_shutdown_noise(previous):
    """TensorFlow's `AtomicFunction.__del__` raises while the interpreter shuts down (its
    module globals are gone); that is noise, not an error of the run."""

    def hook(unraisable):
        where = getattr(unraisable.object, "__qualname__", "")
        if where.startswith("AtomicFunction.") or "AtomicFunction" in repr(unraisable.object):
            return
        previous(unraisable)

    return hook


def route_logs(output_root: str, verbose: bool, stream=sys.stderr) -> str | None:
    """Every log record to `<output_root>/logs/run-<time>.log` (when the output root is a
    local folder); the `sair` logger's INFO lines to `stream` as well; with `verbose`,
    every record to `stream`. Returns the log file's path."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.INFO)
    path = None
    if "://" not in output_root:
        directory = os.path.join(output_root, LOG_SUBDIR)
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, time.strftime("run-%Y%m%d-%H%M%S.log"))
        file_handler = logging.FileHandler(path, encoding="utf-8")
        file_handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(file_handler)
    console = logging.StreamHandler(stream)
    if verbose:
        console.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(console)
    else:
        console.setFormatter(logging.Formatter("[sair %(asctime)s]   %(message)s", "%H:%M:%S"))
        progress = logging.getLogger(PROGRESS_LOGGER)
        for handler in list(progress.handlers):
            progress.removeHandler(handler)
        progress.addHandler(console)
        progress.setLevel(logging.INFO)
        if path is None:  # keep a library's logging.basicConfig from adding a console
            root.addHandler(logging.NullHandler())
    return path
