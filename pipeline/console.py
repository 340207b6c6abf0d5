"""What a run prints, and where everything else goes.

The terminal gets the run's own lines (component start and end, training progress, the
final tables); everything else goes to a log file under the output root
(`logs/run-<time>.log`): the log records of TFX, Beam, TensorFlow and absl, and whatever
this process and the Beam workers it starts write to their standard error (TensorFlow's C++
lines, library warnings, tracebacks at a worker's exit). `verbose` leaves the terminal as
it is.

    quiet_environment(verbose)                  # before any component starts
    with to_log_file(output_root, verbose) as (terminal, log_file):
        ...                                     # print the run's lines to `terminal`
"""

from __future__ import annotations

import contextlib
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


def log_path(output_root: str) -> str | None:
    """`<output_root>/logs/run-<time>.log`; None for a remote output root."""
    if "://" in output_root:
        return None
    directory = os.path.join(output_root, LOG_SUBDIR)
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, time.strftime("run-%Y%m%d-%H%M%S.log"))


@contextlib.contextmanager
def to_log_file(output_root: str, verbose: bool):
    """Yields (terminal stream, log file path or None). Inside, file descriptor 2 (standard
    error, which child processes inherit) writes to the log file, log records go there too
    (`route_logs`), and the run's own lines are written to the terminal stream. Standard
    error is restored on the way out, so errors reach the terminal."""
    path = log_path(output_root)
    if verbose or path is None:
        route_logs(path, verbose, sys.stderr)
        yield sys.stderr, path
        return
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = open(os.dup(saved), "w", buffering=1, encoding="utf-8", closefd=True)  # noqa: SIM115
    log_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        route_logs(path, verbose, terminal)
        yield terminal, path
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        _detach_stream_handlers(terminal)
        terminal.close()


def _detach_stream_handlers(stream) -> None:
    progress = logging.getLogger(PROGRESS_LOGGER)
    for handler in list(progress.handlers):
        if isinstance(handler, logging.StreamHandler) and handler.stream is stream:
            progress.removeHandler(handler)


def route_logs(path: str | None, verbose: bool, stream=sys.stderr) -> None:
    """Every log record to the file at `path` (if any); the `sair` logger's INFO lines to
    `stream` as well; with `verbose`, every record to `stream`. Handlers that libraries
    put on their own loggers (TensorFlow's writes to standard error) are removed, so that
    their records go where the root logger's do."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            for handler in list(logger.handlers):
                if type(handler) is logging.StreamHandler:
                    logger.removeHandler(handler)
            logger.propagate = True
    root.setLevel(logging.INFO)
    if path is not None:
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
        progress.addHandler(console)
        progress.setLevel(logging.INFO)
        if path is None:  # keep a library's logging.basicConfig from adding a console
            root.addHandler(logging.NullHandler())
