"""`ingest`: read the interactions, build the leave-one-out sequence examples and print
the data report, without the rest of the pipeline."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pipeline import configurator
from pipeline.cli.common import add_verbose_flag, beam_pipeline_factory, log, quiet
from pipeline.cli.source import add_source_args, source_from_args


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("ingest", help="run the ingestion alone and print the data report")
    add_source_args(p)
    p.add_argument(
        "--output",
        required=True,
        help="output folder: examples/, vocabulary/, schema/, data_report.json, logs/",
    )
    p.add_argument("--config", help="YAML file; its source and data sections are used")
    add_verbose_flag(p, "Beam")
    configurator.add_flags(p, sections=("data",))
    p.set_defaults(func=main)


def main(args: argparse.Namespace, beam_args: list[str]) -> int:
    from components.sequence_gen import report

    out = Path(args.output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with quiet(str(out), args.verbose):
        result = _ingest(args, beam_args, out)
    print(report.format_table(result))
    print(f"data report: {out / report.REPORT_FILE}")
    return 0


def _ingest(args: argparse.Namespace, beam_args: list[str], out: Path) -> dict:
    from components.sequence_gen import ingest

    layer = configurator.resolve(
        args.config, configurator.from_flags(args), user_log=args.dataset == "csv"
    )
    source = configurator.source_config(layer) or source_from_args(args, out)
    log(f"ingesting {source.name} from {', '.join(source.paths)}")
    start = time.monotonic()
    result = ingest.run_ingestion(
        source,
        configurator.data_config(layer),
        ingest.IngestOutputs.under(str(out)),
        beam_pipeline_factory(beam_args),
    )
    log(f"ingestion done in {time.monotonic() - start:.1f} s; outputs in {out}")
    return result
