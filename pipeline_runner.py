#!/usr/bin/env python3
"""Command line of the SAIR pipeline (the `sair` command).

  run         the TFX pipeline: ingestion → validation → training → evaluation gate → push
  ingest      read interactions, build the leave-one-out sequence examples, print the data report
  download    fetch a MovieLens archive into the cache (checksum-verified)
  synthesize  write a seeded synthetic interaction log (the demo's and the tests' data)
  recommend   top-N for every user from a saved (pushed) model, as TFRecord and CSV (Beam)
  heatmap     a PNG of one history's interest distributions before/after the interaction layer

Settings: defaults ← `--config FILE` (YAML) ← flags (pipeline/configurator.py). Arguments
after a lone `--` go to Apache Beam, e.g. `-- --runner=DataflowRunner --project=P
--region=R --temp_location=gs://B/tmp`, or `-- --direct_running_mode=in_memory`. Without
them the local DirectRunner uses one worker process per core. Each command is a module of
`pipeline/cli/`.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import sair_keras  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)

# Google's client libraries warn at import that Python 3.10 is old; the console is the
# user's (`pipeline.console` keeps this filter for the Beam workers and the log file).
warnings.filterwarnings("ignore", category=FutureWarning)


def build_parser() -> argparse.ArgumentParser:
    from pipeline.cli import COMMANDS

    parser = argparse.ArgumentParser(
        prog="sair", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def split_beam_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """The command's arguments and Beam's (those after a lone `--`)."""
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


def main(argv: list[str] | None = None) -> int:
    from components.sequence_gen.movielens import DownloadError
    from components.sequence_gen.report import IngestionError
    from components.sequence_gen.sources import InputError
    from pipeline import console
    from pipeline.config import check_beam_runner
    from sair_keras.config import ConfigError

    argv, beam_args = split_beam_args(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    console.quiet_environment(getattr(args, "verbose", False))
    try:
        check_beam_runner(beam_args)
        return args.func(args, beam_args)
    except (ConfigError, InputError, IngestionError, DownloadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
