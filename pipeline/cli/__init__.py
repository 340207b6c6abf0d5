"""The commands of `pipeline_runner.py` (the `sair` command), one module each.

Each module has `add_parser(subparsers)`, which registers the command and its flags, and
`main(args, beam_args) -> int`, its exit code. Settings come from `pipeline.configurator`.
"""

from pipeline.cli import download, heatmap, ingest, recommend, run, synthesize

COMMANDS = (run, ingest, download, synthesize, recommend, heatmap)
