"""`recommend`: top-N for every user from a saved (pushed) model, as TFRecord and CSV (Beam)."""

from __future__ import annotations

import argparse
import os
import time

from pipeline.cli.common import beam_pipeline_factory, log


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "recommend", help="top-N for every user from a saved model (TFRecord and CSV)"
    )
    p.add_argument(
        "--model", required=True, help="a pushed model: <output-root>/serving/<name>/<version>"
    )
    p.add_argument(
        "--examples", required=True, help="the examples folder of `ingest` (or SequenceExampleGen)"
    )
    p.add_argument("--output", required=True, help="folder for tfrecord/, csv/ and users.txt")
    p.add_argument("--batch-size", type=int, default=256, help="users per model call")
    p.set_defaults(func=main)


def main(args: argparse.Namespace, beam_args: list[str]) -> int:
    from components.batch_recommend import recommend

    start = time.monotonic()
    users = recommend.run_batch_recommendation(
        args.examples,
        args.model,
        args.output,
        beam_pipeline_factory(beam_args),
        args.batch_size,
    )
    log(f"top-N for {users} users in {time.monotonic() - start:.1f} s")
    print(
        f"recommendations: {os.path.join(args.output, recommend.CSV_DIR)} (CSV), "
        f"{os.path.join(args.output, recommend.TFRECORD_DIR)} (TFRecord)"
    )
    return 0
