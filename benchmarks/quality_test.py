"""The quality benchmark's bookkeeping: summaries over seeds, resumable runs, results page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import diagnose_export  # noqa: E402
import quality  # noqa: E402
import results_page  # noqa: E402


def _run(
    variant, seed, hr10, ndcg10, reached=None, epochs=200, patience=20, dropout=0.2, batch=256
):
    return {
        "variant": variant,
        "seed": seed,
        "recipe": "default",
        "train_config": {"epochs": epochs, "patience": patience, "batch_size": batch},
        "model_config": {"dropout": dropout},
        "best_epoch": 10 + seed,
        "train_wall_s": 100.0 * (seed + 1),
        "seconds_to_val_hr10_0.82": reached,
        "val_hr_10": [0.5, 0.81, 0.83] if reached else [0.5, 0.6],
        "test": {"hr_10": hr10, "ndcg_10": ndcg10, "users": 5},
    }


def test_summary_means_stds_and_time_to_quality():
    runs = [_run("sair", 0, 0.8, 0.6, reached=300.0), _run("sair", 1, 0.9, 0.5, reached=None)]
    runs.append(_run("sair", 2, 0.7, 0.4, reached=500.0))
    s = quality.summarize(runs)["sair"]
    assert s["test"]["hr_10"] == {"mean": 0.8, "std": round(float((0.02 / 3) ** 0.5), 4)}
    assert s["runs"] == 3
    assert s["seconds_to_hr10_0.82"] == 400.0  # mean over the runs that reached it
    assert s["runs_reaching_hr10_0.82"] == 2
    assert s["epochs_to_hr10_0.82"] == 3.0  # first epoch with validation hr_10 >= 0.82
    assert s["best_epoch"] == [10, 11, 12]
    assert s["train_wall_s"] == 200.0


def test_resume_keeps_only_runs_of_the_same_protocol():
    args = argparse.Namespace(
        max_epochs=200, patience=20, dropout=0.2, batch_size=256, item_catalog="interactions"
    )
    assert quality._same_protocol(_run("sair", 0, 0.8, 0.6), args)
    assert not quality._same_protocol(_run("sair", 0, 0.8, 0.6, epochs=50), args)
    assert not quality._same_protocol(_run("sair", 0, 0.8, 0.6, patience=10), args)
    assert not quality._same_protocol(_run("sair", 0, 0.8, 0.6, dropout=0.5), args)
    assert not quality._same_protocol(_run("sair", 0, 0.8, 0.6, batch=16), args)
    small = argparse.Namespace(
        max_epochs=200, patience=20, dropout=0.2, batch_size=16, item_catalog="interactions"
    )
    assert quality._same_protocol(_run("sair", 0, 0.8, 0.6, batch=16), small)
    assert not quality._same_protocol(_run("sair", 0, 0.8, 0.6), small)
    old = _run("sair", 0, 0.8, 0.6)
    del old["train_config"]["batch_size"]  # a run stored before the flag: the paper's 256
    assert quality._same_protocol(old, args)  # and no item_catalog: the interactions'
    table_run = {**_run("sair", 0, 0.8, 0.6), "item_catalog": "item_table"}
    assert not quality._same_protocol(table_run, args)
    table = argparse.Namespace(**{**vars(args), "item_catalog": "item_table"})
    assert quality._same_protocol(table_run, table)
    assert not quality._same_protocol(_run("sair", 0, 0.8, 0.6), table)


def test_another_protocol_defaults_to_its_own_results_file():
    results = quality.ROOT / "benchmarks" / "results"
    assert quality.results_path_for("ml-1m", 256, "interactions") == results / "ml-1m.json"
    assert quality.results_path_for("ml-1m", 16, "interactions") == results / "ml-1m-batch16.json"
    assert quality.results_path_for("ml-1m", 256, "item_table") == results / "ml-1m-item_table.json"
    longer = quality.results_path_for("ml-1m", 256, "interactions", 400, 20)
    assert longer == results / "ml-1m-e400.json"
    assert quality.results_path_for("ml-1m", 256, "interactions", 200, 30).name == "ml-1m-p30.json"
    assert (
        quality.export_name("ml-1m", "sair", 0, "paper", epochs=400)
        == "ml-1m-sair-paper-e400-seed0"
    )


def test_sasrec_under_a_recipe_that_changes_only_the_head_is_refused():
    """Its sasrec is the shared recipe's model: running it would only repeat that run."""
    with pytest.raises(ValueError, match="--recipe softmax"):
        quality.check_variants(["sasrec", "sair"], "softmax_pool_20_top_8")
    with pytest.raises(ValueError, match="--recipe default"):
        quality.check_variants(["sasrec"], "pool_20_top_8")
    quality.check_variants(["sair", "sair_full"], "softmax_pool_20_top_8")
    quality.check_variants(["sasrec", "sair"], "softmax")
    quality.check_variants(["sasrec", "sair"], "default")


def test_a_recipe_that_sets_the_dropout_keeps_it_unless_the_flag_is_given():
    """`--dropout` unset: each run is held to its recipe's dropout (recbole 0.5, else 0.2),
    so processes of different recipes sharing a results file keep each other's runs."""
    unset = argparse.Namespace(
        max_epochs=200, patience=20, dropout=None, batch_size=256, item_catalog="interactions"
    )
    recbole = {**_run("sasrec", 0, 0.8, 0.6, dropout=0.5), "recipe": "recbole"}
    assert quality._same_protocol(recbole, unset)
    assert quality._same_protocol(_run("sair", 0, 0.8, 0.6), unset)
    assert not quality._same_protocol({**recbole, "model_config": {"dropout": 0.2}}, unset)
    merged = quality.merge_runs([recbole], [_run("sair", 0, 0.8, 0.6)], unset, Path("x"))
    assert [r["recipe"] for r in merged] == ["default", "recbole"]
    assert quality.model_config_for("ml-1m", "sasrec", "recbole", None).dropout == 0.5
    assert quality.model_config_for("ml-1m", "sasrec", "default", None).dropout == 0.2
    assert quality.model_config_for("ml-1m", "sasrec", "recbole", 0.3).dropout == 0.3
    assert quality.model_config_for("ml-100k", "sair", "dropout_0.5", None).dropout == 0.5
    given = argparse.Namespace(
        max_epochs=200, patience=20, dropout=0.3, batch_size=256, item_catalog="interactions"
    )
    assert not quality._same_protocol(recbole, given)


def test_results_page_checks_the_targets_against_the_paper():
    summary = quality.summarize(
        [
            _run("sair", 0, 0.84, 0.62),
            _run("sair", 1, 0.84, 0.60),
            _run("sasrec", 0, 0.82, 0.60),
            _run("sasrec", 1, 0.82, 0.60),
        ]
    )
    lines = results_page._targets("ml-1m", summary)
    text = "\n".join(lines)
    assert "hr_10 0.8400 vs the paper's 0.8334: **met**" in text
    assert "ndcg_10 0.6100 vs the paper's 0.6088: **met**" in text
    # gap 0.01 vs the larger std 0.01: not more than it
    assert "ndcg_10 = +0.0100 vs the larger std 0.0100: **not met**" in text
    page = results_page.page(
        {"ml-1m": {"data": {"users": 1, "items": 2, "actions": 3}, "summary": summary}}
    )
    assert "| sair | paper | 0.7540 | 0.8334 |" in page
    assert "| sair | ours (2 runs) | – | 0.8400 ± 0.0000 |" in page
    one = quality.summarize([_run("sair", 0, 0.84, 0.62)])
    assert "| sair | ours (1 run) | 0.8400 |" in results_page._table(one, ("hr_10",), {}, ["x"])


def test_results_page_gives_each_variant_s_gap_to_sasrec_beside_the_larger_std():
    summary = quality.summarize(
        [
            _run("sair", 0, 0.84, 0.62),
            _run("sair", 1, 0.84, 0.60),  # ndcg_10 std 0.01
            _run("sasrec", 0, 0.82, 0.60),
            _run("sasrec", 1, 0.82, 0.60),
            _run("sair_full", 0, 0.80, 0.60),  # one run: no std, no row
        ]
    )
    lines = results_page._gaps(summary)
    row = next(line for line in lines if line.startswith("| sair ("))
    # hr_10 +0.02 beyond a std of 0; ndcg_10 +0.01 not beyond the larger std 0.01;
    # no full-catalog metric in these runs
    assert row == "| sair (2 runs) | **+0.0200** (0.0000) | +0.0100 (0.0100) | – | – |"
    assert not any(line.startswith("| sair_full") for line in lines)
    one_sasrec = quality.summarize([_run("sair", 0, 0.8, 0.6), _run("sasrec", 0, 0.8, 0.6)])
    assert results_page._gaps(one_sasrec) == []


def test_results_page_compares_a_recipe_with_its_own_sasrec_or_else_the_one_it_shares():
    def recipe(run, name):
        return {**run, "recipe": name}

    runs = [
        _run("sasrec", 0, 0.80, 0.60),
        _run("sasrec", 1, 0.80, 0.58),  # default sasrec: ndcg_10 0.59 ± 0.01
        recipe(_run("sair", 0, 0.82, 0.64), "softmax"),
        recipe(_run("sair", 1, 0.82, 0.64), "softmax"),
        recipe(_run("sasrec", 0, 0.81, 0.63), "softmax"),
        recipe(_run("sasrec", 1, 0.81, 0.63), "softmax"),
        recipe(_run("sair", 0, 0.79, 0.62), "top_1"),  # no sasrec of its own
        recipe(_run("sair", 1, 0.79, 0.62), "top_1"),
        # Head changes with softmax's loss: its sasrec is softmax's.
        recipe(_run("sair", 0, 0.83, 0.65), "softmax_pool_20_top_8"),
        recipe(_run("sair", 1, 0.83, 0.65), "softmax_pool_20_top_8"),
    ]
    page = results_page.page(
        {"ml-100k": {"data": {"users": 1, "items": 2, "actions": 3}, "runs": runs}}
    )
    softmax = page.split("### Recipe `softmax`")[1].split("### Recipe")[0]
    assert "#### `softmax` against `softmax`'s own `sasrec` (2 runs)" in softmax
    assert "| sair (2 runs) | **+0.0100** (0.0000) | **+0.0100** (0.0000) | – | – |" in softmax
    assert "| sasrec (2 runs)" not in softmax  # not against itself
    pooled = page.split("### Recipe `softmax_pool_20_top_8`")[1].split("### Recipe")[0]
    assert "#### `softmax_pool_20_top_8` against `softmax`'s `sasrec` (2 runs)" in pooled
    assert "| sair (2 runs) | **+0.0200** (0.0000) | **+0.0200** (0.0000) | – | – |" in pooled
    top_1 = page.split("### Recipe `top_1`")[1]
    assert "#### `top_1` against the default recipe's `sasrec` (2 runs)" in top_1
    # hr_10 0.79 - 0.80 beyond a std of 0; ndcg_10 0.62 - 0.59 beyond the larger std 0.01
    assert "| sair (2 runs) | **-0.0100** (0.0000) | **+0.0300** (0.0100) | – | – |" in top_1
    assert "| sasrec (2 runs)" not in page.split("### Recipe")[0]  # the default's own table


def test_results_page_checks_the_targets_of_a_recipe_with_three_seeds():
    def recipe(run, name):
        return {**run, "recipe": name}

    runs = [
        _run("sasrec", 0, 0.82, 0.59),
        _run("sasrec", 1, 0.82, 0.61),
        _run("sasrec", 2, 0.82, 0.60),  # default sasrec: ndcg_10 0.60 ± 0.0082
        _run("sair", 0, 0.80, 0.60),
        *(recipe(_run("sair", seed, 0.84, 0.6150), "paper") for seed in range(3)),
        recipe(_run("sair", 0, 0.85, 0.70), "top_1"),  # one seed: an ablation, no targets
    ]
    page = results_page.page(
        {"ml-1m": {"data": {"users": 1, "items": 2, "actions": 3}, "runs": runs}}
    )
    default, paper = page.split("### Recipe `paper`")
    assert "- `sair` hr_10 0.8000 vs the paper's 0.8334: **not met**" in default
    paper = paper.split("### Recipe")[0]
    assert "Targets of `paper` (sampled, test split):" in paper
    assert "- `sair` hr_10 0.8400 vs the paper's 0.8334: **met**" in paper
    assert "- `sair` ndcg_10 0.6150 vs the paper's 0.6088: **met**" in paper
    # against the default recipe's sasrec: +0.015 beyond its std
    assert "- `sair` − `sasrec` ndcg_10 = +0.0150 vs the larger std 0.0082: **met**" in paper
    assert "Provisional" not in paper
    assert "Targets" not in page.split("### Recipe `top_1`")[1]


def test_results_page_marks_a_file_of_another_batch_size_as_another_protocol():
    data = {"users": 1, "items": 2, "actions": 3}
    small = [_run("sair", 0, 0.84, 0.62, batch=16), _run("sasrec", 0, 0.82, 0.60, batch=16)]
    page = results_page.page(
        {
            "ml-1m": {"data": data, "runs": [_run("sair", 0, 0.80, 0.60)]},
            "ml-1m-batch16": {"data": data, "runs": small},
        }
    )
    paper_section, small_section = page.split("## ml-1m-batch16")
    assert "Not the paper's protocol" not in paper_section
    assert "**Not the paper's protocol: 16 histories per optimizer step**" in small_section
    assert "| sair | ours (1 run) | – | 0.8400 |" in small_section
    assert "| sair | paper |" not in small_section  # the paper's rows belong to its protocol
    assert "Targets" not in small_section


def test_results_page_marks_a_file_of_another_epoch_cap():
    data = {"users": 1, "items": 3, "actions": 3}
    page = results_page.page(
        {
            "ml-1m": {"data": data, "runs": [_run("sair", 0, 0.8, 0.6)]},
            "ml-1m-e400": {"data": data, "runs": [_run("sair", 0, 0.83, 0.61, epochs=400)]},
        }
    )
    ours, longer = page.split("## ml-1m-e400")
    assert "Another training budget" not in ours
    assert "**Another training budget: at most 400 epochs, patience 20**" in longer


def test_results_page_gives_the_training_of_recipe_runs_too():
    data = {"users": 1, "items": 3, "actions": 3}
    runs = [
        dict(_run("sair", s, 0.83, 0.61, reached=90.0, epochs=400), recipe="paper") for s in (0, 1)
    ]
    page = results_page.page({"ml-1m-e400": {"data": data, "runs": runs}})
    training = page.split("### Training")[1].split("###")[0]
    assert "| sair (`paper`) | 2 | 150.0 | [10, 11] | 90.0 (2) | 3.0 |" in training


def test_results_page_gives_recbole_s_catalog_its_own_section_beside_the_paper():
    runs = [{**_run("sair", 0, 0.84, 0.62), "item_catalog": "item_table"}]
    data = {"users": 1, "items": 5, "actions": 3, "items_without_interactions": 2}
    page = results_page.page(
        {
            "ml-1m": {
                "data": {"users": 1, "items": 3, "actions": 3},
                "runs": [_run("sair", 0, 0.8, 0.6)],
            },
            "ml-1m-item_table": {
                "dataset": "ml-1m",
                "item_catalog": "item_table",
                "data": data,
                "runs": runs,
            },
        }
    )
    ours, table = page.split("## ml-1m-item_table")
    assert "RecBole's item catalog" not in ours
    assert "**RecBole's item catalog**: the item file's 2 items" in table
    assert "| sair | paper | 0.7540 | 0.8334 |" in table  # the paper ran with that catalog
    # The paper's protocol on ML-1M: the targets hold there too.
    assert "- `sair` hr_10 0.8400 vs the paper's 0.8334: **met**" in table


def test_a_recipe_is_compared_with_the_sasrec_of_its_own_loss_even_with_fewer_runs():
    def recipe(run, name):
        return {**run, "item_catalog": "item_table", "recipe": name}

    runs = [
        # the default (BCE) sasrec has 3 runs, the softmax one only 1
        *(recipe(_run("sasrec", seed, 0.82, 0.60), "default") for seed in range(3)),
        recipe(_run("sasrec", 0, 0.83, 0.63), "softmax"),
        *(recipe(_run("sair", s, 0.84, 0.64), "softmax_pool_20_top_8") for s in range(3)),
    ]
    data = {"users": 1, "items": 5, "actions": 3, "items_without_interactions": 2}
    page = results_page.page(
        {
            "ml-1m-item_table": {
                "dataset": "ml-1m",
                "item_catalog": "item_table",
                "data": data,
                "runs": runs,
            }
        }
    )
    pooled = page.split("### Recipe `softmax_pool_20_top_8`")[1]
    assert "Targets of `softmax_pool_20_top_8` (sampled, test split):" in pooled
    assert "- `sair` hr_10 0.8400 vs the paper's 0.8334: **met**" in pooled
    assert (
        "- `sair` − `sasrec` ndcg_10 = +0.0100 vs the larger std 0.0000: "
        "**undecided until each model has 2+ runs**"
    ) in pooled
    assert "+0.0400" not in pooled  # not against the default recipe's BCE sasrec


def test_parallel_processes_keep_each_others_runs():
    args = argparse.Namespace(
        max_epochs=200, patience=20, dropout=0.2, batch_size=256, item_catalog="interactions"
    )
    on_disk = [
        _run("sasrec", 0, 0.82, 0.60),  # written by the other process
        _run("sair", 0, 0.10, 0.10),  # an older copy of a run this process has
    ]
    mine = [_run("sair", 0, 0.84, 0.62)]
    merged = quality.merge_runs(on_disk, mine, args, Path("ml-1m.json"))
    assert [(r["variant"], r["seed"]) for r in merged] == [("sair", 0), ("sasrec", 0)]
    assert merged[0]["test"]["hr_10"] == 0.84


def test_runs_of_other_settings_in_the_results_file_are_refused_not_dropped():
    args = argparse.Namespace(
        max_epochs=400, patience=20, dropout=None, batch_size=256, item_catalog="interactions"
    )
    on_disk = [_run("sasrec", 0, 0.82, 0.60), _run("sasrec", 1, 0.82, 0.60, epochs=400)]
    with pytest.raises(ValueError, match=r"ml-1m.json holds 1 run.*sasrec seed 0.*epochs 200"):
        quality.check_protocol(on_disk, args, Path("ml-1m.json"))
    with pytest.raises(ValueError, match="--results"):
        quality.merge_runs(on_disk, [_run("sair", 0, 0.84, 0.62, epochs=400)], args, Path("x"))
    quality.check_protocol(on_disk[1:], args, Path("ml-1m.json"))  # its own protocol: kept


def test_lock_file_sits_beside_the_results(tmp_path):
    results = tmp_path / "ml-1m.json"
    with quality.locked(results):
        assert (tmp_path / "ml-1m.json.lock").exists()


def test_results_page_tabulates_interest_usage():
    usage = {
        "selection_share": [0.5, 0.3, 0.1, 0.1],
        "last_position_sets": 7,
        "top1_changes": 0.0021,
        "entropy": 0.25,
    }
    run = {
        "variant": "sair",
        "seed": 1,
        "model_config": {"top_k": 2},
        "interest_usage": {"after": usage, "before": {**usage, "top1_changes": 0.2}},
    }
    lines = results_page._interest_usage([_run("sasrec", 0, 0.8, 0.6), run])
    want = "| sair seed 1 (default) | 0.800 / 0.800 | 7 / 7 | 0.0021 / 0.2000 | 0.250 / 0.250 | – |"
    assert lines[-1] == want
    run["head_share"] = {"norm_ratio": 0.31234, "cosine": 0.1, "spread": 0.5, "users": 9}
    assert results_page._interest_usage([run])[-1].endswith("| 0.312, 0.500, – |")
    run["head_share"]["selection_effect"] = 0.25
    assert results_page._interest_usage([run])[-1].endswith("| 0.312, 0.500, 0.250 |")
    assert results_page._interest_usage([_run("sasrec", 0, 0.8, 0.6)]) == []


def test_targets_from_fewer_than_three_seeds_are_marked_provisional():
    one = quality.summarize([_run("sair", 0, 0.84, 0.62), _run("sasrec", 0, 0.82, 0.60)])
    lines = results_page._targets("ml-1m", one)
    assert any(line.startswith("Provisional: 1 run(s)") for line in lines)
    # One run each has no std: a +0.02 gap is not declared above the noise.
    assert lines[-1].endswith("**undecided until each model has 2+ runs**")


def test_results_page_tabulates_the_head_ablation():
    metrics = lambda hr, ndcg: {"hr_10": hr, "ndcg_10": ndcg, "users": 9}  # noqa: E731
    run = {
        "variant": "sair",
        "seed": 2,
        "recipe": "paper",
        "head_ablation": {
            "model": metrics(0.8, 0.6),
            "swapped_interests": metrics(0.79, 0.59),
            "without_head": None,
        },
    }
    lines = results_page._head_ablation([_run("sasrec", 0, 0.8, 0.6), run])
    assert lines[-1] == "| sair seed 2 (paper) | 0.8000 / 0.6000 | 0.7900 / 0.5900 | – |"
    assert results_page._head_ablation([_run("sasrec", 0, 0.8, 0.6)]) == []


def test_diagnose_export_finds_exactly_one_recorded_run():
    runs = [_run("sair", 0, 0.8, 0.6), _run("sasrec", 0, 0.8, 0.6), {**_run("sair", 1, 0.8, 0.6)}]
    runs[2]["recipe"] = "paper"
    assert diagnose_export.find_run(runs, "sair", 0, "default") is runs[0]
    assert diagnose_export.find_run(runs, "sair", 1, "paper") is runs[2]
    with pytest.raises(SystemExit, match="found 0"):
        diagnose_export.find_run(runs, "sair", 1, "default")
    with pytest.raises(SystemExit, match="found 2"):
        diagnose_export.find_run(runs + [_run("sair", 0, 0.7, 0.5)], "sair", 0, "default")


def test_exports_of_different_recipes_do_not_overwrite_each_other():
    names = {
        quality.export_name("ml-1m", "sair", 0, recipe)
        for recipe in ("default", "paper", "softmax")
    }
    assert names == {"ml-1m-sair-seed0", "ml-1m-sair-paper-seed0", "ml-1m-sair-softmax-seed0"}
    assert quality.export_name("ml-1m", "sair", 0, "default", 16) == "ml-1m-sair-batch16-seed0"
    assert quality.export_name("ml-1m", "sair", 0, "paper", 256) == "ml-1m-sair-paper-seed0"
    assert (
        quality.export_name("ml-1m", "sair", 0, "default", 256, "item_table")
        == "ml-1m-sair-item_table-seed0"
    )


def test_a_recipe_that_sets_l_or_k_wins_over_the_datasets():
    default = quality.model_config_for("ml-1m", "sair", "default", 0.2)
    assert (default.num_interests, default.top_k, default.max_len) == (10, 3, 150)
    top_1 = quality.model_config_for("ml-1m", "sair", "top_1", 0.2)
    assert (top_1.num_interests, top_1.top_k) == (10, 1)
    pool = quality.model_config_for("ml-1m", "sair", "pool_20_top_8", 0.2)
    assert (pool.num_interests, pool.top_k, pool.dropout) == (20, 8, 0.2)
