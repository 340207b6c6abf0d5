"""Writes docs/RESULTS.md from the quality results, beside the paper's Table II.

  python benchmarks/results_page.py

Reads `benchmarks/results/{ml-1m,ml-100k}.json` (whichever exist; written by quality.py),
then any `<dataset>-<protocol>.json`: another batch size (`-batch<N>`, `quality.py
--batch-size N`) or RecBole's item catalog (`-item_table`, `quality.py --item-catalog
item_table`).
Every number on the page comes from those files or from SAIR_SPEC §8 (the paper).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from quality_summary import summarize

from sair_keras.config import RECIPES, sasrec_recipe

ROOT = Path(__file__).resolve().parent.parent
SAMPLED = ("hr_5", "hr_10", "hr_20", "ndcg_5", "ndcg_10", "ndcg_20")
FULL = ("full_hr_10", "full_hr_20", "full_ndcg_10", "full_ndcg_20")
VARIANTS = ("popularity", "sasrec", "sair", "sair_full", "sair_label")

# SAIR_SPEC §8: the paper's Table II (sampled protocol, 100 negatives).
PAPER = {
    "ml-1m": {
        "sair": (0.7540, 0.8334, 0.9107, 0.5732, 0.6088, 0.6213),
        "sasrec": (0.7461, 0.8270, 0.9035, 0.5582, 0.5968, 0.6112),
    }
}
TARGETS = {"ml-1m": {"hr_10": 0.8334, "ndcg_10": 0.6088}}
PAPER_BATCH = 256
OUR_BUDGET = (200, 20)  # quality.py's default --max-epochs and --patience


def _cell(stats: dict | None, runs: int = 2) -> str:
    if not stats:
        return "–"
    if runs < 2:  # one run has no spread to show
        return f"{stats['mean']:.4f}"
    return f"{stats['mean']:.4f} ± {stats['std']:.4f}"


def _table(summary: dict, metrics: tuple[str, ...], paper: dict, headers: list[str]) -> list[str]:
    lines = ["| model | source | " + " | ".join(headers) + " |"]
    lines.append("|---|---|" + "---|" * len(metrics))
    for variant in VARIANTS:
        if variant in paper:
            lines.append(
                f"| {variant} | paper | " + " | ".join(f"{v:.4f}" for v in paper[variant]) + " |"
            )
        if variant in summary:
            s = summary[variant]
            runs = s.get("runs", 1)
            lines.append(
                f"| {variant} | ours ({runs} run{'s' if runs > 1 else ''}) | "
                + " | ".join(_cell(s["test"].get(m), runs) for m in metrics)
                + " |"
            )
    return lines


def _has_sasrec(summary: dict) -> bool:
    return summary.get("sasrec", {}).get("runs", 1) >= 2


def _recipe_base(
    recipe: str, rsummary: dict, summary: dict, recipes: dict[str, dict]
) -> tuple[str, dict]:
    """The recipe whose `sasrec` `recipe` is compared with, and its summary: `recipe`'s own
    when that has 2+ runs; else the recipe with the same `sasrec` (`sasrec_recipe`: e.g.
    `softmax` for `softmax_pool_20_top_8`) when that has any run (the default's `sasrec`,
    trained with another loss, is not the comparison even when it has more runs); else the
    default recipe."""
    if _has_sasrec(rsummary):
        return recipe, rsummary
    twin = sasrec_recipe(recipe) if recipe in RECIPES else "default"
    if twin != "default" and "sasrec" in recipes.get(twin, {}):
        return twin, recipes[twin]
    return "default", summary


def _targets_dataset(section: str, result: dict) -> str | None:
    """The dataset whose targets a results file is checked against: its `dataset` (a
    section such as `ml-1m-item_table` holds ML-1M runs) when its runs follow the paper's
    batch size; None for another batch size, which is not the paper's protocol."""
    return result.get("dataset", section) if _batch_size(result) == PAPER_BATCH else None


def _targets(
    dataset: str | None,
    summary: dict,
    base_summary: dict | None = None,
    recipe: str | None = None,
) -> list[str]:
    """The issue's targets for `summary`'s `sair`; its gap is to `base_summary`'s `sasrec`
    (default: `summary`'s own). `recipe` names a recipe other than the default."""
    if dataset not in TARGETS or "sair" not in summary:
        return []
    base = summary if base_summary is None else base_summary
    test = summary["sair"]["test"]
    of = f" of `{recipe}`" if recipe else ""
    lines = ["", f"Targets{of} (sampled, test split):", ""]
    runs = min(s.get("runs", 1) for s in (summary["sair"], base.get("sasrec")) if s)
    if runs < 3:
        lines += [
            f"Provisional: {runs} run(s) per model, the targets are over 3 seeds "
            "(a std over fewer seeds understates the noise).",
            "",
        ]
    for metric, floor in TARGETS[dataset].items():
        ours = test[metric]["mean"]
        verdict = "met" if ours >= floor else "not met"
        lines.append(f"- `sair` {metric} {ours:.4f} vs the paper's {floor:.4f}: **{verdict}**")
    if "sasrec" in base:
        a, b = test["ndcg_10"], base["sasrec"]["test"]["ndcg_10"]
        gap, margin = round(a["mean"] - b["mean"], 4), max(a["std"], b["std"])
        verdict = "met" if gap > margin else "not met"
        if runs < 2:  # one run per model has no std: nothing to compare the gap with
            verdict = "undecided until each model has 2+ runs"
        lines.append(
            f"- `sair` − `sasrec` ndcg_10 = {gap:+.4f} vs the larger std {margin:.4f}: "
            f"**{verdict}**"
        )
    return lines


GAP_METRICS = ("hr_10", "ndcg_10", "full_hr_10", "full_ndcg_10")


def _gaps(summary: dict, base_summary: dict | None = None, title: str = "") -> list[str]:
    """Each variant's mean minus `sasrec`'s, with the larger of the two std beside it; a gap
    beyond that std (the issue's criterion, here on the full catalog too) is in bold.
    Only variants that, like `sasrec`, have 2+ runs (one run has no std).

    `sasrec` is `summary`'s own, or `base_summary`'s when given (a recipe without 2+ runs
    of `sasrec` is compared with the default recipe's); `title` names the comparison."""
    own_base = base_summary is None or base_summary is summary
    base = (summary if own_base else base_summary).get("sasrec")
    if not base or base.get("runs", 1) < 2:
        return []
    rows = []
    for variant in VARIANTS:
        s = summary.get(variant)
        if variant == "popularity" or (own_base and variant == "sasrec"):
            continue
        if not s or s.get("runs", 1) < 2:
            continue
        cells = []
        for metric in GAP_METRICS:
            a, b = s["test"].get(metric), base["test"].get(metric)
            if not a or not b:
                cells.append("–")
                continue
            gap, margin = round(a["mean"] - b["mean"], 4), max(a["std"], b["std"])
            text = f"{gap:+.4f}"
            cells.append(
                f"**{text}** ({margin:.4f})" if abs(gap) > margin else f"{text} ({margin:.4f})"
            )
        rows.append(f"| {variant} ({s['runs']} runs) | " + " | ".join(cells) + " |")
    if not rows:
        return []
    return [
        "",
        title or f"### Against `sasrec` ({base['runs']} runs)",
        "",
        "Mean minus `sasrec`'s mean, the larger of the two std in brackets; in bold where",
        "the gap is larger than that std.",
        "",
        "| model | " + " | ".join(GAP_METRICS) + " |",
        "|---|" + "---|" * len(GAP_METRICS),
        *rows,
    ]


def _recipe_gaps(recipe: str, rsummary: dict, summary: dict, recipes: dict[str, dict]) -> list[str]:
    """A recipe's variants against the `sasrec` `_recipe_base` picks."""
    name, base = _recipe_base(recipe, rsummary, summary, recipes)
    if not base.get("sasrec"):
        return []
    which = {recipe: f"`{recipe}`'s own", "default": "the default recipe's"}.get(
        name, f"`{name}`'s"
    )
    title = f"#### `{recipe}` against {which} `sasrec` ({base['sasrec']['runs']} runs)"
    return _gaps(rsummary, base, title)


def _training(summary: dict, recipes: dict[str, dict]) -> list[str]:
    """One row per variant of our protocol's `default` model, then per variant of each
    recipe (labelled `variant (recipe)`)."""
    lines = [
        "| model | runs | train wall s (mean) | best epochs "
        "| s to val hr_10 ≥ 0.82 (runs reaching) | epochs to it |",
        "|---|---|---|---|---|---|",
    ]
    labelled = [(variant, summary) for variant in VARIANTS] + [
        (f"{variant} (`{recipe}`)", rsummary)
        for recipe, rsummary in recipes.items()
        for variant in VARIANTS
    ]
    for label, source in labelled:
        s = source.get(label.split(" ")[0])
        if not s or "train_wall_s" not in s:
            continue
        reach = s.get("seconds_to_hr10_0.82")
        lines.append(
            f"| {label} | {s['runs']} | {s['train_wall_s']} | {s['best_epoch']} | "
            f"{reach if reach is not None else '–'} ({s.get('runs_reaching_hr10_0.82', 0)}) | "
            f"{s.get('epochs_to_hr10_0.82') or '–'} |"
        )
    return lines


def _interest_usage(runs: list[dict]) -> list[str]:
    """One row per SAIR run that recorded `interest_usage` (sair_keras.diagnostics)."""
    rows = [r for r in runs if r.get("interest_usage")]
    if not rows:
        return []
    lines = [
        "",
        "### Interest usage (test histories)",
        "",
        "How the top-K selection uses the pool of L interests, `after` the interaction layer",
        "(what the model selects) and `before` it (what top-K of C_r alone would select):",
        "share of the slots taken by the K most used interests, distinct top-K sets at the",
        "users' last positions, the fraction of consecutive positions whose top-1 interest",
        "changes, and the mean entropy of the distribution over L (1 = uniform). The last",
        "column is what the head adds to the encoder's output F at the last positions",
        "(`head_share`): the mean of ‖head‖ / ‖F‖; the spread of the head across users",
        "(0 = the same vector for everyone); and the selection effect, how far the head",
        "moves (relative to its norm) when it is given another user's interests.",
        "",
        "| run | top-K share after / before | distinct sets after / before "
        "| top-1 changes after / before | entropy after / before "
        "| head ‖h‖/‖F‖, spread, selection effect |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        u = r["interest_usage"]
        k = r["model_config"]["top_k"]
        a, b = u["after"], u["before"]
        lines.append(
            f"| {r['variant']} seed {r['seed']} ({r.get('recipe', 'default')}) "
            f"| {sum(a['selection_share'][:k]):.3f} / {sum(b['selection_share'][:k]):.3f} "
            f"| {a['last_position_sets']} / {b['last_position_sets']} "
            f"| {a['top1_changes']:.4f} / {b['top1_changes']:.4f} "
            f"| {a['entropy']:.3f} / {b['entropy']:.3f} "
            f"| {_head(r.get('head_share'))} |"
        )
    return lines


def _head_ablation(runs: list[dict]) -> list[str]:
    """One row per SAIR run that recorded `head_ablation` (sair_keras.diagnostics)."""
    rows = [r for r in runs if r.get("head_ablation")]
    if not rows:
        return []
    lines = [
        "",
        "### The interest head at inference (test, sampled)",
        "",
        "The trained model's `hr_10` / `ndcg_10` as trained, with every user's interest",
        "selection replaced by another user's (F unchanged), and without the head",
        "(`e = LN(F)`; only when the head has the residual). If the interests carried",
        "information the encoder does not, swapping them would cost quality.",
        "",
        "| run | as trained | another user's interests | without the head |",
        "|---|---|---|---|",
    ]

    def cell(m: dict | None) -> str:
        return "–" if not m else f"{m['hr_10']:.4f} / {m['ndcg_10']:.4f}"

    for r in rows:
        a = r["head_ablation"]
        lines.append(
            f"| {r['variant']} seed {r['seed']} ({r.get('recipe', 'default')}) "
            f"| {cell(a['model'])} | {cell(a['swapped_interests'])} "
            f"| {cell(a['without_head'])} |"
        )
    return lines


def _head(share: dict | None) -> str:
    if not share:
        return "–"
    effect = share.get("selection_effect")
    return f"{share['norm_ratio']:.3f}, {share['spread']:.3f}, " + (
        "–" if effect is None else f"{effect:.3f}"
    )


def _summaries(result: dict) -> tuple[dict, dict]:
    """The default recipe's summary and the other recipes', recomputed from the runs (a
    file's stored summary is as old as its last writer's code)."""
    runs = [r for r in result.get("runs", []) if "test" in r]
    if not runs:
        return result["summary"], result.get("recipes", {})
    names = sorted({r["recipe"] for r in runs if "recipe" in r} - {"default"})
    return (
        summarize([r for r in runs if r.get("recipe", "default") == "default"]),
        {name: summarize([r for r in runs if r.get("recipe") == name]) for name in names},
    )


def _batch_size(result: dict) -> int:
    """The batch size of a results file's runs (quality.py keeps one per file)."""
    sizes = {
        r["train_config"].get("batch_size", PAPER_BATCH)
        for r in result.get("runs", [])
        if "train_config" in r
    }
    return sizes.pop() if len(sizes) == 1 else PAPER_BATCH


def _budget(result: dict) -> tuple[int, int]:
    """(epoch cap, patience) of a results file's runs (quality.py keeps one per file)."""
    budgets = {
        (r["train_config"]["epochs"], r["train_config"]["patience"])
        for r in result.get("runs", [])
        if "train_config" in r
    }
    return budgets.pop() if len(budgets) == 1 else OUR_BUDGET


def _item_catalog(result: dict) -> str:
    return result.get("item_catalog", "interactions")


def _origin(result: dict) -> str:
    """Which protocol a results file holds, for its section's first line."""
    batch = _batch_size(result)
    if batch != PAPER_BATCH:
        return (
            f"**Not the paper's protocol: {batch} histories per optimizer step** "
            f"(the paper's batch is {PAPER_BATCH}), everything else the same"
        )
    if _item_catalog(result) == "item_table":
        unrated = result["data"].get("items_without_interactions", "?")
        return (
            f"**RecBole's item catalog**: the item file's {unrated} items that nobody "
            "interacted with are in the catalog and among the sampled negatives, as in the "
            "paper's RecBole runs (`quality.py --item-catalog item_table`); everything else "
            "as in the paper's protocol"
        )
    epochs, patience = _budget(result)
    if (epochs, patience) != OUR_BUDGET:
        return (
            f"**Another training budget: at most {epochs} epochs, patience {patience}** "
            f"(ours elsewhere: {OUR_BUDGET[0]} and {OUR_BUDGET[1]}; the paper states no cap), "
            "everything else as in the paper's protocol"
        )
    return "All of it: `benchmarks/reproduce_paper.sh`"


def page(results: dict[str, dict]) -> str:
    out = [
        "# Results",
        "",
        "Generated by `python benchmarks/results_page.py` from `benchmarks/results/*.json`",
        "(written by `benchmarks/quality.py`; the command of each file is in its `environment`).",
        "Test split, leave-one-out. *Sampled*: the target among 100 fixed negatives the user",
        "never interacted with, ties counted against the target. *Full*: the target among every",
        "item the user has not seen. Ours: mean ± std over seeds. The paper's numbers are its",
        "Table II (SAIR_SPEC §8; sampled only).",
    ]
    for dataset in PAPER:
        if dataset not in results:
            out += [
                "",
                f"## {dataset}",
                "",
                "No run of ours has finished yet; the paper's numbers:",
                "",
            ]
            out += _table({}, SAMPLED, PAPER[dataset], list(SAMPLED))
    for dataset, r in results.items():
        summary, recipes = _summaries(r)
        env = r.get("environment", {})
        out += ["", f"## {dataset}", ""]
        origin = _origin(r)
        out.append(
            f"Data: {r['data']['users']:,} users, {r['data']['items']:,} items, "
            f"{r['data']['actions']:,} actions. {origin}; "
            f"the file was last written by `{env.get('command', '?')}` ({env.get('date', '?')})."
        )
        out += ["", "### Sampled (100 negatives)", ""]
        paper = PAPER.get(r.get("dataset", dataset), {}) if _batch_size(r) == PAPER_BATCH else {}
        out += _table(summary, SAMPLED, paper, list(SAMPLED))
        targets = _targets_dataset(dataset, r)
        out += _targets(targets, summary)
        out += ["", "### Full catalog", ""]
        out += _table(summary, FULL, {}, list(FULL))
        out += _gaps(summary)
        out += ["", "### Training", ""]
        out += _training(summary, recipes)
        for recipe, rsummary in recipes.items():
            out += ["", f"### Recipe `{recipe}` (sampled)", ""]
            out += _table(rsummary, SAMPLED, {}, list(SAMPLED))
            out += _recipe_gaps(recipe, rsummary, summary, recipes)
            if rsummary.get("sair", {}).get("runs", 1) >= 3:  # a candidate, not an ablation
                _, base = _recipe_base(recipe, rsummary, summary, recipes)
                out += _targets(targets, rsummary, base, recipe)
        out += _interest_usage(r.get("runs", []))
        out += _head_ablation(r.get("runs", []))
    out += [
        "",
        "## Interest heat maps",
        "",
        "The relevance over the L interests along one user's history, before and after the",
        "interest-interaction layer (softmax per position), like the paper's Figures 2-3:",
        "",
        "![ML-100K, user 1, sair seed 0](interest_heatmap_ml-100k.png)",
        "",
        "ML-100K user 1 (272 ratings; the model reads the last 150), the `sair` seed 0 model",
        "of the paper-protocol run, exported by `quality.py --export-dir`. Made with",
        "`./sair heatmap --model <saved model> --user 1 --examples <ingested examples> "
        "--output docs/interest_heatmap_ml-100k.png` (or `--history <item ids, oldest first>`).",
        "After the interaction layer one interest dominates the whole window: the statistics",
        "over all users are in the interest-usage table above and in docs/MODEL.md.",
        "",
        "![ML-1M, user 1, sair seed 0](interest_heatmap_ml-1m.png)",
        "",
        "ML-1M user 1 (53 ratings), the `sair` seed 0 model of the paper-protocol run",
        "(`--output docs/interest_heatmap_ml-1m.png`). Before the interaction layer one",
        "interest leads at most positions with noise around it; after it the first few",
        "positions are mixed, then a single interest (not the one that led before) takes the",
        "distribution, sharper at the end. The paper's Figure 3 shows this smoothing; here it",
        "goes as far as one interest for the whole history, and the head ablation above shows",
        "that the ranking does not depend on which interests are selected.",
    ]
    return "\n".join(out) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--results-dir", default=str(ROOT / "benchmarks" / "results"))
    p.add_argument("--output", default=str(ROOT / "docs" / "RESULTS.md"))
    args = p.parse_args()
    results = {}
    for dataset in ("ml-1m", "ml-100k"):
        paths = [Path(args.results_dir) / f"{dataset}.json"]
        paths += sorted(Path(args.results_dir).glob(f"{dataset}-*.json"))
        for path in paths:
            if path.exists():
                results[path.stem] = json.loads(path.read_text())
    Path(args.output).write_text(page(results))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
