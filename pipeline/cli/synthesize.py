"""`synthesize`: write a seeded synthetic interaction log (the demo's and the tests' data)."""

from __future__ import annotations

import argparse
import time

from pipeline.cli.common import log


def add_parser(subparsers) -> None:
    from components.sequence_gen.synthetic import SyntheticConfig

    s = SyntheticConfig()
    p = subparsers.add_parser("synthesize", help="write a seeded synthetic interaction log")
    p.add_argument("--output", required=True, help="folder for interactions.csv and items.csv")
    p.add_argument("--users", type=int, default=s.num_users)
    p.add_argument("--items", type=int, default=s.num_items)
    p.add_argument("--categories", type=int, default=s.num_categories)
    p.add_argument("--mean-length", type=float, default=s.mean_length)
    p.add_argument("--seed", type=int, default=s.seed)
    p.set_defaults(func=main)


def main(args: argparse.Namespace, beam_args: list[str]) -> int:
    from components.sequence_gen import synthetic

    config = synthetic.SyntheticConfig(
        num_users=args.users,
        num_items=args.items,
        num_categories=args.categories,
        mean_length=args.mean_length,
        seed=args.seed,
    )
    start = time.monotonic()
    synthetic.generate(config, args.output)
    log(f"wrote {args.output} in {time.monotonic() - start:.1f} s")
    return 0
