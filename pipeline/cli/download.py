"""`download`: fetch a MovieLens archive into the cache, checksum-verified."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("download", help="download a MovieLens archive (checksum-verified)")
    p.add_argument("--dataset", choices=("ml-100k", "ml-1m", "ml-20m"), required=True)
    p.add_argument("--cache-dir", help="default ~/.cache/sair/movielens or $SAIR_CACHE_DIR")
    p.set_defaults(func=main)


def main(args: argparse.Namespace, beam_args: list[str]) -> int:
    from components.sequence_gen import movielens

    print(movielens.download(args.dataset, args.cache_dir))
    return 0
