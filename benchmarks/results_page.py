"""Writes docs/RESULTS.md from the quality results, beside the paper's Table II.

  python benchmarks/results_page.py

Reads `benchmarks/results/{ml-1m,ml-100k}.json` and any `<dataset>-<protocol>.json`
(written by quality.py). Every number on the page comes from those files or from the paper's
Table II. Each file's test numbers are those of the configuration chosen on validation
(`quality_summary.choose`); the other configurations are listed with their validation
scores only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

import curves
from experiments import HEAD_ABLATIONS, Ablations, changed_switches
from quality_summary import (
    NEUTRAL_DATA,
    NEUTRAL_MODEL,
    NEUTRAL_TRAIN,
    OUR_EPOCHS,
    PAPER_BATCH,
    VALIDATION_FULL,
    VALIDATION_SAMPLED,
    WHOLE_HISTORY,
    choose,
    chosen_runs,
    config_key,
    configuration,
    configurations,
    summarize,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLED = ("hr_5", "hr_10", "hr_20", "ndcg_5", "ndcg_10", "ndcg_20")
FULL = ("full_hr_10", "full_hr_20", "full_ndcg_10", "full_ndcg_20")
VARIANTS = ("popularity", "sasrec", "sair", "sair_full", "sair_label")
GAP_METRICS = ("ndcg_10", "full_hr_10", "full_ndcg_10")

# The paper's Table II (sampled protocol, 100 negatives; docs/MODEL.md).
PAPER = {
    "ml-1m": {
        "sair": (0.7540, 0.8334, 0.9107, 0.5732, 0.6088, 0.6213),
        "sasrec": (0.7461, 0.8270, 0.9035, 0.5582, 0.5968, 0.6112),
    }
}

# Published full-catalog test numbers of SASRec-family models on ML-1M, leave-one-out,
# histories of up to 200 items (HR@10, NDCG@10), with each source's protocol: its item
# catalog, the last item of a history its model trained on, the split its choices were
# made on, and the seen items it excluded from the ranking. Klenitskiy & Vasilev and
# gSASRec use SASRec's preprocessed ML-1M (items with fewer than 5 ratings removed);
# HSTU trains on the test target's predecessor, keeps no validation split and excludes
# the items of the 200-item input; its preprocessing does not keep the file's order of a
# user's ratings with the same timestamp, which changes a quarter of the test targets.
# Tikhonovich et al. retrained HSTU and FuXi-α from their code on ML-1M in the file's order
# (6,040 users, 3,706 items: the split ours makes), beside their eSASRec; their protocol
# states its items and the split its grid search ran on, not the rest ("–").
KLENITSKIY = 'Klenitskiy & Vasilev, "Turning Dross Into Gold Loss" (RecSys 2023)'
HSTU = 'Zhai et al., "Actions Speak Louder than Words" (ICML 2024; its repository)'
GSASREC = 'Petrov & Macdonald, "gSASRec" (RecSys 2023)'
ESASREC = 'Tikhonovich et al., "eSASRec" (RecSys 2025; its repository)'
SASREC_DATA = ("3,416", "3rd-last", "every user's 2nd-last", "all")
HSTU_DATA = ("3,706", "2nd-last", "none", "last 200")
ESASREC_DATA = ("3,706", "–", "2nd-last", "–")
PUBLISHED_FULL = {
    "ml-1m": [
        ("SASRec, BCE, one negative", 0.2500, 0.1341, SASREC_DATA, KLENITSKIY),
        ("SASRec, sampled softmax, 128 negatives", 0.2853, 0.1603, HSTU_DATA, HSTU),
        (
            "gSASRec (gBCE)",
            0.3000,
            0.1726,
            ("3,416", "3rd-last", "512 users' 2nd-last", "all"),
            GSASREC,
        ),
        ("HSTU", 0.3097, 0.1720, HSTU_DATA, HSTU),
        (
            "SASRec+ (full cross-entropy, length 200, dropout 0.1)",
            0.3152,
            0.1821,
            SASREC_DATA,
            KLENITSKIY,
        ),
        ("HSTU-large (8 blocks)", 0.3294, 0.1893, HSTU_DATA, HSTU),
        ("SASRec, sampled softmax, 256 negatives", 0.2929, 0.1684, ESASREC_DATA, ESASREC),
        ("HSTU, retrained on the file's order", 0.3037, 0.1719, ESASREC_DATA, ESASREC),
        ("eSASRec (LiGR blocks, sampled softmax)", 0.3133, 0.1772, ESASREC_DATA, ESASREC),
        ("FuXi-α, retrained on the file's order", 0.3164, 0.1813, ESASREC_DATA, ESASREC),
    ]
}
# Ours: the items of the dataset's file (or its item table), trained up to each user's
# third-to-last item, every choice made on each user's second-to-last, every seen item
# excluded.
OURS_PROTOCOL = ("3rd-last", "every user's 2nd-last", "all")


# A spread is shown over this many seeds or more; fewer give the mean alone.
MIN_SPREAD_RUNS = 3


def _cell(stats: dict | None, runs: int) -> str:
    if not stats:
        return "–"
    if stats.get("std") is None or runs < MIN_SPREAD_RUNS:
        return f"{stats['mean']:.4f}"
    return f"{stats['mean']:.4f} ± {stats['std']:.4f}"


def _runs_label(s: dict) -> str:
    return curves.legend_label("ours", s["runs"])


def _table(summary: dict, metrics: tuple[str, ...], paper: dict) -> list[str]:
    lines = [
        "| model | source | " + " | ".join(metrics) + " |",
        "|---|---|" + "---|" * len(metrics),
    ]
    for variant in VARIANTS:
        if variant in paper:
            lines.append(
                f"| {variant} | paper | " + " | ".join(f"{v:.4f}" for v in paper[variant]) + " |"
            )
        s = summary.get(variant)
        if s and any(m in s["test"] for m in metrics):
            lines.append(
                f"| {variant} | {_runs_label(s)} | "
                + " | ".join(_cell(s["test"].get(m), s["runs"]) for m in metrics)
                + " |"
            )
    return lines


def _published(dataset: str, summary: dict, settings: dict | None, items: int) -> list[str]:
    """Ours (ranking `items` items) beside the field's published full-catalog numbers."""
    rows = PUBLISHED_FULL.get(dataset)
    if not rows:
        return []
    max_len = (settings or {}).get("model", {}).get("max_len", "?")
    lines = [
        "",
        f"Beside the published full-catalog numbers on {dataset} (leave-one-out, histories of",
        f"up to 200 items; ours: up to {max_len}, every item seen before the target excluded).",
        "*Items*: the catalog ranked; *trained to*: the last item of a history the model",
        "trained on; *chosen on*: the split the source's choices (epochs, settings) were made",
        "on; *seen*: the items seen before the target that the ranking excludes; –: the",
        "source does not say:",
        "",
        "| model | HR@10 | NDCG@10 | items | trained to | chosen on | seen | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {m} | {hr:.4f} | {ndcg:.4f} | {' | '.join(protocol)} | {src} |"
        for m, hr, ndcg, protocol, src in rows
    ]
    protocol = " | ".join((f"{items:,}", *OURS_PROTOCOL))
    for variant in VARIANTS:
        s = summary.get(variant)
        if s and ("full_hr_10" in s["test"] or "full_ndcg_10" in s["test"]):
            cells = [_cell(s["test"].get(m), s["runs"]) for m in ("full_hr_10", "full_ndcg_10")]
            lines.append(f"| {variant} | {cells[0]} | {cells[1]} | {protocol} | {_runs_label(s)} |")
    return lines


def _gaps(summary: dict) -> list[str]:
    """`sair` minus `sasrec` with the larger of the two std beside it (both with 2+ runs)."""
    a, b = summary.get("sair"), summary.get("sasrec")
    if not a or not b or min(a["runs"], b["runs"]) < MIN_SPREAD_RUNS:
        return []
    cells = []
    for metric in GAP_METRICS:
        x, y = a["test"].get(metric), b["test"].get(metric)
        if not x or not y:
            cells.append("–")
            continue
        gap, margin = x["mean"] - y["mean"], max(x["std"], y["std"])
        cells.append(
            f"{gap:+.4f} (larger std {margin:.4f}; {gap / margin:+.1f}×)"
            if margin
            else f"{gap:+.4f}"
        )
    return [
        "",
        "`sair` minus `sasrec` (same configuration outside the interest head):",
        "",
        "| " + " | ".join(GAP_METRICS) + " |",
        "|" + "---|" * len(GAP_METRICS),
        "| " + " | ".join(cells) + " |",
    ]


def _how_chosen(choice: dict) -> str:
    """How `quality_summary.choose` picked `choice`, in words."""
    seeds = f"{choice['runs']} seed{'s' if choice['runs'] != 1 else ''}"
    score = f"`sair`'s mean {choice['by']} over {seeds}: {_cell(choice['value'], choice['runs'])}"
    if choice["among"] == 1:
        return f"the only configuration run ({score})"
    return (
        f"the best of the {choice.get('confirmed', 1)} configuration(s) run over {seeds}, "
        f"among {choice['among']} ({score})"
    )


def _learning_rate(train: dict) -> str:
    """Adam's learning rate, and its schedule where it decays."""
    rate = f"learning rate {train.get('learning_rate', 1e-3):g}"
    schedule = train.get("learning_rate_schedule", "constant")
    return rate if schedule == "constant" else f"{rate}, {schedule} decay"


def _describe(settings: dict) -> str:
    """The settings that matter to a reader of one configuration, in a line."""
    m, t = settings["model"], settings["train"]
    parts = [
        f"loss {m.get('training_loss', 'bce')}",
        f"D={m.get('hidden_dim')}, {m.get('num_blocks')} blocks, {m.get('num_heads')} head(s)",
        # Settings added later are in a configuration only where they differ from before.
        *(
            "pre-LayerNorm" if k == "norm_first" else f"{k.replace('_', ' ')} {m[k]}"
            for k in NEUTRAL_MODEL
            if k in m
        ),
        f"L={m.get('num_interests')}, K={m.get('top_k')}",
        # The interest head's benchmark-only switches, where a run changed them.
        *(f"{k.replace('_', ' ')} {v}" for k, v in changed_switches(m, HEAD_ABLATIONS).items()),
        f"max_len {m.get('max_len')}",
        *(f"{k.replace('_', ' ')} {v}" for k, v in settings.get("data", {}).items()),
        f"dropout {m.get('dropout')}",
        f"batch {t.get('batch_size', PAPER_BATCH)}",
        _learning_rate(t),
        f"{t.get('epochs')} epochs max, patience {t.get('patience')}",
        f"early stopping on validation {t.get('early_stopping_metric')}",
        *([f"weight averaging {t['weight_averaging']:g}"] if t.get("weight_averaging") else []),
    ]
    return "; ".join(parts)


def _flat_settings(settings: dict) -> dict:
    """A configuration's settings in one mapping, a setting left out of it (at the value
    every earlier run had, or a benchmark-only switch at the product's) at that value."""
    switches = {k: v for k, v in dataclasses.asdict(Ablations()).items() if v is not None}
    flat = {**NEUTRAL_MODEL, **switches, **NEUTRAL_TRAIN, **NEUTRAL_DATA}
    for section, values in settings.items():
        flat.update(values if isinstance(values, dict) else {section: values})
    return flat


def _differences(settings: dict, chosen: dict | None) -> str:
    """The settings in which one configuration differs from the chosen one, in a cell."""
    if chosen is None:
        return ""
    mine, theirs = _flat_settings(settings), _flat_settings(chosen)
    return ", ".join(
        f"{name.replace('_', ' ')} {mine.get(name, '(unset)')}"
        for name in dict.fromkeys([*mine, *theirs])
        if mine.get(name) != theirs.get(name)
    )


def _validation_table(runs: list[dict], chosen: str | None) -> list[str]:
    lines = [
        "| configuration | recipe | differs from the chosen in | variant | runs "
        "| validation full_ndcg_10 | validation ndcg_10 |",
        "|---|---|---|---|---|---|---|",
    ]
    configs = configurations(runs)
    chosen_settings = configs[chosen]["settings"] if chosen in configs else None
    order = sorted(
        configs,
        key=lambda k: (
            -max(
                (v.get(VALIDATION_FULL) or v.get(VALIDATION_SAMPLED) or {"mean": 0})["mean"]
                for v in configs[k]["variants"].values()
            )
        ),
    )
    for key in order:
        c = configs[key]
        mark = f"**{key}** (chosen)" if key == chosen else key
        differs = "" if key == chosen else _differences(c["settings"], chosen_settings)
        for variant in VARIANTS:
            v = c["variants"].get(variant)
            if v:
                lines.append(
                    f"| {mark} | {', '.join(c['recipes'])} | {differs} | {variant} | "
                    f"{v['runs']} | "
                    f"{_cell(v.get(VALIDATION_FULL), v['runs'])} | "
                    f"{_cell(v.get(VALIDATION_SAMPLED), v['runs'])} |"
                )
    return lines


def _protocol(result: dict) -> str:
    runs = [r for r in result.get("runs", []) if "train_config" in r]
    batch = {r["train_config"].get("batch_size", PAPER_BATCH) for r in runs} or {PAPER_BATCH}
    parts = []
    if len(batch) > 1:  # configurations that set their own batch size (`train.batch_size`)
        parts.append(f"histories per step: each configuration's ({sorted(batch)})")
    elif batch != {PAPER_BATCH}:
        parts.append(f"**{batch.pop()} histories per step** (the paper's batch: {PAPER_BATCH})")
    if result.get("item_catalog", "interactions") == "item_table":
        unrated = result["data"].get("items_without_interactions", "?")
        parts.append(
            f"**RecBole's item catalog**: the item file's {unrated} items nobody interacted "
            "with are in the catalog and among the negatives, as in the paper's RecBole runs"
        )
    return "; ".join(parts) or "leave-one-out, the items some interaction mentions"


def _curves(name: str, reported: list[dict], figures: Path | None) -> list[str]:
    """The validation curves of the reported runs as a picture beside the tables: the
    full-catalog NDCG@10 where every run recorded it, else the sampled one."""
    trained = [r for r in reported if r["variant"] != "popularity"]
    if figures is None or not trained:
        return []
    metric = "val_full_ndcg_10" if all(r.get("val_full_ndcg_10") for r in trained) else None
    metric = metric or ("val_ndcg_10" if all(r.get("val_ndcg_10") for r in trained) else None)
    if metric is None:
        return []
    by_variant: dict[str, list[list[float]]] = {}
    for r in sorted(trained, key=lambda r: (VARIANTS.index(r["variant"]), r["seed"])):
        by_variant.setdefault(r["variant"], []).append(r[metric])
    figures.mkdir(parents=True, exist_ok=True)
    title = f"{name}: validation {metric.removeprefix('val_')} by epoch (each line one seed)"
    curves.plot(by_variant, str(figures / f"{name}-validation.png"), title)
    return ["", f"![{title}](figures/{name}-validation.png)"]


def _commands(runs: list[dict]) -> list[str]:
    """The distinct commands that ran `runs`, in order (runs recorded before a run kept its
    command have none)."""
    return list(dict.fromkeys(r["command"] for r in runs if r.get("command")))


def screening(runs: list[dict]) -> bool:
    """Whether every trained run had a budget below the full `OUR_EPOCHS`: a screening step
    of the search for the default configuration, reported on validation only."""
    trained = [r for r in runs if r.get("train_config")]
    return bool(trained) and all(r["train_config"]["epochs"] < OUR_EPOCHS for r in trained)


def section(name: str, result: dict, figures: Path | None = None) -> list[str]:
    runs = [r for r in result.get("runs", []) if "test" in r]
    choice = choose(runs)
    screen = screening(runs)
    summary = summarize(chosen_runs(runs, choice))
    env = result.get("environment", {})
    d = result["data"]
    out = [
        "",
        f"## {name}",
        "",
        f"Data: {d['users']:,} users, {d['items']:,} items, {d['actions']:,} actions; "
        f"{_protocol(result)}. Last written by `{env.get('command', '?')}` "
        f"({env.get('date', '?')}).",
        "",
    ]
    settings = None
    if choice is None:
        out.append("No trained configuration yet; popularity only.")
    else:
        key = choice["configuration"]
        settings = next(
            configuration(r) for r in runs if r.get("train_config") and config_key(r) == key
        )
        out += [
            f"Chosen configuration: `{key}` ({_describe(settings)}), {_how_chosen(choice)}. "
            + (
                f"A screening step (a budget below the full {OUR_EPOCHS} epochs): validation "
                "only, no test numbers."
                if screen
                else "Test numbers below are that configuration's only."
            ),
        ]
        commands = _commands(chosen_runs(runs, choice))
        if commands:
            out += ["", "Its runs came from " + "; ".join(f"`{c}`" for c in commands) + "."]
    if screen:
        return out + _runs_and_curves(name, runs, choice, figures)
    full_marked = all(
        r.get("full_catalog_excludes") == WHOLE_HISTORY for r in chosen_runs(runs, choice)
    )
    out += ["", "### Full catalog (test)", ""]
    if any(m in s["test"] for s in summary.values() for m in FULL):
        out += _table(summary, FULL, {})
        if name == result.get("dataset", name):  # the default item catalog
            out += _published(name, summary, settings, result["data"]["items"])
    if not full_marked:
        out += [
            "",
            "Runs that excluded only the last `max_len` items of each history from the ranking "
            "(recorded before every seen item was excluded) are left out of this table.",
        ]
    out += ["", "### Sampled, 100 negatives (test)", ""]
    # The paper's Table II beside the paper's protocol (on our catalog and on RecBole's,
    # which the paper used) at any epoch budget (the paper states none), not beside
    # another batch size.
    dataset = result.get("dataset", name)
    protocol = re.sub(r"(-e\d+)?(-p\d+)?$", "", name)
    paper = PAPER.get(dataset, {}) if protocol in (dataset, f"{dataset}-item_table") else {}
    out += _table(summary, SAMPLED, paper)
    out += _gaps(summary)
    sair = summary.get("sair", {})
    if sair.get("best_epoch"):
        out += [
            "",
            f"`sair` best epochs: {sair['best_epoch']}; mean wall seconds of training "
            f"{sair['train_wall_s']} (under varying machine load; not a speed figure).",
        ]
    return out + _runs_and_curves(name, runs, choice, figures)


def _runs_and_curves(name: str, runs: list[dict], choice, figures: Path | None) -> list[str]:
    """The chosen configuration's validation curves and every configuration's validation."""
    out = _curves(name, chosen_runs(runs, choice), figures)
    out += ["", "### Every configuration run (validation only)", ""]
    return out + _validation_table(runs, choice["configuration"] if choice else None)


def page(results: dict[str, dict], figures: Path | None = None) -> str:
    out = [
        "# Results",
        "",
        "Generated by `python benchmarks/results_page.py` from `benchmarks/results/*.json`",
        "(written by `benchmarks/quality.py`; each file names the command that wrote it).",
        "Leave-one-out. *Full catalog*: the target among every item the user did not",
        "interact with before it (the field's protocol). *Sampled*: the target among 100 fixed",
        "negatives the user never interacted with (the paper's protocol). Ties count against",
        "the target; a non-finite score is a miss. Ours: mean ± sample std (ddof=1) over",
        f"seeds ({MIN_SPREAD_RUNS} or more; the mean alone over fewer). Each dataset's",
        "configuration is chosen on the validation split; test numbers are reported for it",
        "alone. The paper's numbers are its Table II (sampled only).",
        "",
        "A configuration's key names everything its runs trained with; a recipe names a file",
        "of `benchmarks/configs/`, changes to the defaults of today. Any configuration below",
        "trains again as its runs did, into the file that holds them:",
        "`python benchmarks/quality.py --dataset DATASET --configuration KEY --variants sair",
        "--seeds 0 --resume`.",
    ]
    for name, result in results.items():
        out += section(name, result, figures)
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
    output = Path(args.output)
    output.write_text(page(results, output.parent / "figures"))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
