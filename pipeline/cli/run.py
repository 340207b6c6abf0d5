"""`run`: the TFX pipeline, ingestion → validation → training → evaluation gate → push →
batch recommendations, on the runner the settings name."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pipeline import configurator
from pipeline.cli.common import add_verbose_flag, log, quiet
from pipeline.cli.source import add_source_args, source_from_args
from pipeline.run_lock import output_root_lock


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("run", help="run the TFX pipeline (default: the synthetic demo)")
    add_source_args(p)
    p.add_argument(
        "--config",
        help="YAML file with any of: source, data, model, train, evaluation, kubeflow and "
        "the top-level settings; flags override it (pipeline/configurator.py)",
    )
    p.add_argument(
        "--untrained",
        action="store_true",
        help="skip training (an untrained model: the Evaluator's gate refuses it)",
    )
    p.add_argument("--report", help="write the run report (JSON) here")
    add_verbose_flag(p)
    configurator.add_flags(p)
    p.set_defaults(func=main)


def build_config(args: argparse.Namespace, beam_args: list[str]):
    """The run's `PipelineConfig`: defaults ← the demo's (synthetic data) ← `--config` ←
    flags (`pipeline.configurator`)."""
    flags = configurator.from_flags(args)
    if args.untrained:
        flags.setdefault("train", {})["epochs"] = 0
    if beam_args:
        flags["beam_args"] = list(beam_args)
    layer = configurator.resolve(
        args.config, flags, demo=args.dataset == "synthetic", user_log=args.dataset == "csv"
    )
    source = None
    if "source" not in layer:
        source = source_from_args(args, Path(configurator.output_root(layer)))
    return configurator.pipeline_config(layer, source)


def main(args: argparse.Namespace, beam_args: list[str]) -> int:
    from pipeline import blessed, run_report, runners

    config = build_config(args, beam_args)
    log(
        f"pipeline '{config.name}' ({config.model.variant}) with the {config.runner} runner; "
        f"output in {config.output_root}"
    )
    if config.runner == "kubeflow_v2":
        print(f"compiled {runners.compile_kubeflow_v2(config)}")
        return 0
    if "://" not in config.output_root:
        os.makedirs(config.output_root, exist_ok=True)
    with output_root_lock(config), quiet(config.output_root, args.verbose) as terminal:
        baseline = blessed.baseline(config)
        if baseline.note:
            log(baseline.note)
        earlier = run_report.pipeline_runs(config)
        progress = run_report.ComponentProgress(config, stream=terminal)
        progress.start()
        try:
            runners.RUNNERS[config.runner](config, compare_with_blessed=baseline.comparable)
        finally:
            progress.stop()
        report = run_report.build_report(config, progress.seconds, baseline, earlier)
    if report["data"]:
        from components.sequence_gen.report import format_table

        print(format_table(report["data"]))
    print(run_report.format_metrics(report))
    if args.report:
        run_report.write(report, args.report)
        print(f"run report: {args.report}")
    return 0
