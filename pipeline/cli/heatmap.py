"""`heatmap`: a PNG of one history's interest relevance before and after the interaction
layer (eq. 5), from a saved `sair` model."""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "heatmap", help="PNG of a history's interests before/after the interaction layer"
    )
    p.add_argument("--model", required=True, help="a saved (pushed) sair model folder")
    p.add_argument("--history", help="raw item ids, oldest first, comma-separated")
    p.add_argument("--user", help="a user id to look up in --examples (their full history)")
    p.add_argument("--examples", help="the examples folder of `ingest` (or SequenceExampleGen)")
    p.add_argument("--positions", type=int, default=50, help="the last N positions shown")
    p.add_argument(
        "--item-titles",
        help="an item file with titles to label the positions with: MovieLens movies.dat "
        "or u.item, or a CSV with a header, the id first and a `title` column",
    )
    p.add_argument("--item-titles-encoding", default="utf-8", help="(movies.dat: latin-1)")
    p.add_argument("--output", required=True, help="the PNG file to write")
    p.set_defaults(func=main)


def _history(args: argparse.Namespace) -> tuple[list[str], str]:
    """The raw item ids to draw and who they belong to; ValueError when there are none."""
    if args.history:
        history = [i.strip() for i in args.history.split(",") if i.strip()]
        return history, f"{len(history)} items"
    if args.user and args.examples:
        from components.batch_recommend import recommend
        from sair_keras import features
        from sair_keras.catalog import Catalog

        catalog = Catalog.load(os.path.join(args.examples, features.VOCABULARY_SUBDIR))
        try:
            history = recommend.find_user_history(args.examples, args.user, catalog.item_ids)
        except KeyError as e:
            raise ValueError(e.args[0]) from e
        return history, f"user {args.user}"
    raise ValueError("heatmap needs --history, or --user with --examples")


def main(args: argparse.Namespace, beam_args: list[str]) -> int:
    from sair_keras import heatmap

    try:
        history, who = _history(args)
        out = heatmap.interests_of(args.model, history, args.positions)
        titles = {}
        if args.item_titles:
            titles = heatmap.read_titles(args.item_titles, args.item_titles_encoding)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    title = f"interest relevance along {who} (last {len(out['item_ids'])} positions)"
    labels = [titles.get(i, i) for i in out["item_ids"]]
    heatmap.render(out["before"], out["after"], args.output, title, labels, out["interests"])
    print(f"heat map: {args.output}")
    return 0
