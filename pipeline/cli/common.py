"""What the commands share: their progress lines and the quiet console."""

from __future__ import annotations

import contextlib
import sys
import time

_TERMINAL: list = []  # the terminal stream of a command whose standard error goes to a log


def log(msg: str) -> None:
    """One progress line on the terminal, with the time."""
    stream = _TERMINAL[-1] if _TERMINAL else sys.stderr
    print(f"[sair {time.strftime('%H:%M:%S')}] {msg}", file=stream, flush=True)


@contextlib.contextmanager
def quiet(output_root: str, verbose: bool):
    """Standard error (and the third-party logs) to `<output_root>/logs/`, the command's
    own lines to the terminal (`pipeline.console`)."""
    from pipeline import console

    with console.to_log_file(output_root, verbose) as (terminal, log_file):
        _TERMINAL.append(terminal)
        try:
            if log_file and not verbose:
                log(f"logs of TFX, Beam and TensorFlow: {log_file}")
            yield terminal
        finally:
            _TERMINAL.pop()


def beam_pipeline_factory(beam_args: list[str]):
    """A function that makes a Beam pipeline with `beam_args` (the arguments after `--`),
    by default the DirectRunner with one worker process per core."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.config import DEFAULT_BEAM_ARGS

    options = PipelineOptions(list(beam_args) or list(DEFAULT_BEAM_ARGS))
    return lambda: beam.Pipeline(options=options)


def add_verbose_flag(parser, what: str = "TFX, Beam and TensorFlow") -> None:
    parser.add_argument(
        "--verbose",
        action="store_true",
        help=f"print the logs of {what} too (otherwise in <output>/logs/)",
    )
