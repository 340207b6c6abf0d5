"""The quality benchmark's bookkeeping: summaries over seeds, resumable runs, results page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import diagnose_export  # noqa: E402
import quality  # noqa: E402
import quality_summary  # noqa: E402
import results_page  # noqa: E402


def _run(
    variant,
    seed,
    hr10,
    ndcg10,
    reached=None,
    epochs=200,
    patience=20,
    dropout=0.2,
    batch=256,
    val=None,
    full=None,
    **model,
):
    """A recorded run; `val`: its validation full_ndcg_10 (a run that recorded it excluded
    the whole history, `full`: its test full_ndcg_10), else a run from before that."""
    run = {
        "variant": variant,
        "seed": seed,
        "recipe": "default",
        "train_config": {"epochs": epochs, "patience": patience, "batch_size": batch},
        "model_config": {
            "dropout": dropout,
            "hidden_dim": 64,
            "num_blocks": 2,
            "num_heads": 1,
            **model,
        },
        "best_epoch": 10 + seed,
        "train_wall_s": 100.0 * (seed + 1),
        "seconds_to_val_hr10_0.82": reached,
        "best_val_ndcg_10": ndcg10 + 0.01,
        "val_hr_10": [0.5, 0.81, 0.83] if reached else [0.5, 0.6],
        "test": {"hr_10": hr10, "ndcg_10": ndcg10, "full_ndcg_10": full or 0.1, "users": 5},
    }
    if val is not None:
        run["train_config"]["early_stopping_metric"] = "full_ndcg_10"
        run["best_val_full_ndcg_10"] = val
        run["full_catalog_excludes"] = quality_summary.WHOLE_HISTORY
    return run


def test_summary_means_sample_stds_and_time_to_quality():
    runs = [_run("sair", 0, 0.8, 0.6, reached=300.0), _run("sair", 1, 0.9, 0.5, reached=None)]
    runs.append(_run("sair", 2, 0.7, 0.4, reached=500.0))
    s = quality_summary.summarize(runs)["sair"]
    # ddof=1: sqrt(0.02 / 2) = 0.1 (the population std would be 0.0816)
    assert s["test"]["hr_10"] == {"mean": 0.8, "std": 0.1}
    assert s["runs"] == 3
    assert s["seconds_to_hr10_0.82"] == 400.0  # mean over the runs that reached it
    assert s["runs_reaching_hr10_0.82"] == 2
    assert s["best_epoch"] == [10, 11, 12]
    assert s["train_wall_s"] == 200.0
    one = quality_summary.summarize([_run("sair", 0, 0.8, 0.6)])["sair"]
    assert one["test"]["hr_10"] == {"mean": 0.8, "std": None}  # no spread from one run


def test_full_catalog_metrics_of_runs_that_excluded_only_the_window_are_not_summarized():
    old = [_run("sair", s, 0.8, 0.6, full=0.3) for s in range(2)]
    new = [_run("sair", s, 0.8, 0.6, val=0.2, full=0.16) for s in range(2)]
    assert "full_ndcg_10" not in quality_summary.summarize(old)["sair"]["test"]
    assert quality_summary.summarize(new)["sair"]["test"]["full_ndcg_10"]["mean"] == 0.16


def test_configurations_are_keyed_by_their_settings_not_by_recipe_names():
    a = _run("sair", 0, 0.8, 0.6, num_interests=10)
    b = {**_run("sair", 1, 0.8, 0.6, num_interests=20)}  # same recipe name, other settings
    c = _run("sair", 1, 0.8, 0.6, num_interests=10)  # another seed of a's configuration
    assert quality_summary.config_key(a) == quality_summary.config_key(c)
    assert quality_summary.config_key(a) != quality_summary.config_key(b)
    assert len(quality_summary.configurations([a, b, c])) == 2
    # sasrec ignores the interest head: its encoder key matches either
    s = _run("sasrec", 0, 0.8, 0.6, num_interests=20)
    assert quality_summary.config_key(s, encoder_only=True) == quality_summary.config_key(
        a, encoder_only=True
    )
    # runs of different settings never replace each other when a file is merged
    args = argparse.Namespace(
        max_epochs=200, patience=20, dropout=0.2, batch_size=256, item_catalog="interactions"
    )
    assert len(quality.merge_runs([a], [b], args, Path("x"))) == 2


def test_the_configuration_is_chosen_on_validation_never_on_test():
    runs = [
        # best on test, worse on validation
        *(_run("sair", s, 0.9, 0.7, val=0.15, num_interests=10) for s in range(3)),
        *(_run("sair", s, 0.8, 0.6, val=0.17, num_interests=20) for s in range(3)),
        *(_run("sasrec", s, 0.8, 0.6, val=0.16, num_interests=10) for s in range(3)),
        {"variant": "popularity", "seed": None, "test": {"hr_10": 0.4, "ndcg_10": 0.2}},
    ]
    choice = quality_summary.choose(runs)
    assert choice["value"]["mean"] == 0.17 and choice["by"] == "validation full_ndcg_10"
    assert choice["among"] == 2
    head = quality_summary.headline(runs)
    assert head["summary"]["sair"]["test"]["ndcg_10"]["mean"] == 0.6  # the chosen one's
    assert head["summary"]["sasrec"]["runs"] == 3  # the sasrec of the same encoder
    assert head["summary"]["popularity"]["runs"] == 1


def test_a_one_seed_screen_never_outranks_a_mean_confirmed_over_more_seeds():
    confirmed = [
        _run("sair", s, 0.8, 0.6, val=v, num_interests=10)
        for s, v in enumerate([0.176, 0.172, 0.177])
    ]
    screen = [_run("sair", 0, 0.8, 0.6, val=0.1758, num_interests=20)]
    choice = quality_summary.choose(confirmed + screen)
    assert choice["runs"] == 3 and choice["value"]["mean"] == 0.175
    assert (choice["among"], choice["confirmed"]) == (2, 1)
    confirmed_too = [_run("sair", s, 0.8, 0.6, val=0.18, num_interests=20) for s in (1, 2)]
    # Confirmed (the screen's seed with two more), the better mean wins.
    assert quality_summary.choose(confirmed + screen + confirmed_too)["value"]["mean"] == 0.1786


def test_older_runs_are_chosen_by_sampled_validation_and_newer_ones_by_full_catalog():
    old = [_run("sair", s, 0.8, 0.60, num_interests=10) for s in range(2)]
    assert quality_summary.choose(old)["by"] == "validation ndcg_10"
    new = [_run("sair", s, 0.8, 0.55, val=0.1, num_interests=20) for s in range(2)]
    assert quality_summary.choose(old + new)["by"] == "validation full_ndcg_10"


def test_results_page_reports_the_chosen_configuration_and_how_it_was_chosen(tmp_path):
    runs = [
        *(_run("sair", s, 0.84, 0.62, val=0.17, full=0.16, num_interests=20) for s in range(3)),
        *(_run("sasrec", s, 0.82, 0.60, val=0.16, full=0.15) for s in range(3)),
        *(_run("sair", s, 0.99, 0.99, val=0.10, full=0.5, num_interests=10) for s in range(3)),
        {
            "variant": "popularity",
            "seed": None,
            "full_catalog_excludes": "history",
            "test": {"hr_10": 0.46, "ndcg_10": 0.25, "full_ndcg_10": 0.0194},
        },
    ]
    for run in runs[:6]:
        run["val_full_ndcg_10"] = [0.05, 0.1, run["best_val_full_ndcg_10"]]
        run["command"] = f"python benchmarks/quality.py --variants {run['variant']}"
    runs[6]["command"] = "python benchmarks/quality.py --recipe unchosen"
    data = {"users": 9, "items": 5, "actions": 30}
    figures = tmp_path / "figures"
    page = results_page.page({"ml-1m": {"dataset": "ml-1m", "data": data, "runs": runs}}, figures)
    assert "![ml-1m: validation full_ndcg_10 by epoch" in page
    assert "(figures/ml-1m-validation.png)" in page and (figures / "ml-1m-validation.png").exists()
    assert "`sair`'s mean validation full_ndcg_10 over 3 seeds" in page
    assert "| sair | paper | 0.7540 | 0.8334 |" in page  # Table II beside ours
    assert "(loss bce; D=64, 2 blocks, 1 head(s); L=20," in page  # the chosen settings
    assert "0.9900" not in page  # the unchosen configuration's test numbers are not shown
    # Every command behind the reported runs, not only the last one that wrote the file.
    assert (
        "Its runs came from `python benchmarks/quality.py --variants sair`; "
        "`python benchmarks/quality.py --variants sasrec`." in page
    )
    assert "--recipe unchosen" not in page
    assert "| popularity | ours (1 run) | – | 0.0194 |" in page or "0.0194" in page
    assert "| sair | ours (3 runs) | – | – | 0.1600 ± 0.0000 |" in page
    # Beside the field's published full-catalog numbers, with their protocol.
    assert (
        "| SASRec+ (full cross-entropy, length 200, dropout 0.1) | 0.3152 | 0.1821 | 3,416 | "
        "3rd-last | every user's 2nd-last | all |" in page
    )
    assert "| HSTU | 0.3097 | 0.1720 | 3,706 | 2nd-last | none | last 200 |" in page
    # An independent retraining on the file's order states only its items and validation.
    assert (
        "| HSTU, retrained on the file's order | 0.3037 | 0.1719 | 3,706 | – | 2nd-last | – |"
        in page
    )
    assert (
        "| sair | – | 0.1600 ± 0.0000 | 5 | 3rd-last | every user's 2nd-last | all | ours" in page
    )


def test_a_configurations_line_names_the_settings_added_later_where_they_are_set():
    run = _run("sair", 0, 0.8, 0.6, val=0.1, full=0.1)
    run["model_config"].update(norm_first=True, output_layer="untied", similarity="dot")
    line = results_page._describe(quality_summary.configuration(run))
    assert "pre-LayerNorm" in line and "output layer untied" in line
    assert "similarity" not in line  # the setting every earlier run had is not named
    assert "pre-LayerNorm" not in results_page._describe(
        quality_summary.configuration(_run("sair", 0, 0.8, 0.6, val=0.1, full=0.1))
    )


def test_a_configurations_line_names_its_weight_averaging_only_where_it_is_on():
    run = _run("sair", 0, 0.8, 0.6, val=0.1, full=0.1)
    assert "weight averaging" not in results_page._describe(quality_summary.configuration(run))
    run["train_config"]["weight_averaging"] = 0.9
    line = results_page._describe(quality_summary.configuration(run))
    assert line.endswith("weight averaging 0.9")


def test_the_table_of_every_configuration_names_what_sets_each_apart_from_the_chosen():
    runs = [
        *(_run("sair", s, 0.8, 0.6, val=0.17, full=0.16) for s in range(3)),
        _run("sair", 0, 0.8, 0.6, val=0.15, full=0.14),
        _run("sair", 0, 0.8, 0.6, val=0.14, full=0.13, num_interests=20),
    ]
    runs[3]["train_config"]["weight_averaging"] = 0.9
    runs[4]["model_config"]["output_mixture"] = True
    table = "\n".join(results_page._validation_table(runs, quality_summary.config_key(runs[0])))
    rows = {line.split(" | ")[0]: line.split(" | ")[2] for line in table.splitlines()[2:]}
    assert rows[f"| **{quality_summary.config_key(runs[0])}** (chosen)"] == ""
    assert rows[f"| {quality_summary.config_key(runs[3])}"] == "weight averaging 0.9"
    # A benchmark-only switch set apart from the product's is named, and so is every setting.
    assert rows[f"| {quality_summary.config_key(runs[4])}"] == (
        "output mixture True, num interests 20"
    )


def test_portable_command_lines_name_no_machine_path():
    argv = [str(quality.ROOT / "benchmarks" / "quality.py"), "--export-dir", "/data/models"]
    argv += ["--results=/data/x/ml-1m.json"]
    assert quality.portable_argv(argv) == [
        "benchmarks/quality.py",
        "--export-dir",
        "<models>",
        "--results=<ml-1m.json>",
    ]


def test_a_popularity_run_from_before_the_whole_history_exclusion_is_measured_again():
    old = {"variant": "popularity", "seed": None, "test": {}}
    assert not quality._kept(old)
    assert quality._kept({**old, "full_catalog_excludes": "history"})


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
    # The paper's Table II budget, longer than the product's (TrainConfig's 60, patience 10).
    longer = quality.results_path_for("ml-1m", 256, "interactions", 200, 20)
    assert longer == results / "ml-1m-e200-p20.json"
    patient = quality.results_path_for("ml-1m", 256, "interactions", quality.OUR_EPOCHS, 30)
    assert patient.name == "ml-1m-p30.json"
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
    """`--dropout` unset: each run keeps its configuration's dropout (recbole 0.5, else
    ModelConfig's), so processes of different recipes sharing a results file keep each
    other's runs, whatever the default was when a run was made."""
    unset = argparse.Namespace(
        max_epochs=200, patience=20, dropout=None, batch_size=256, item_catalog="interactions"
    )
    recbole = {**_run("sasrec", 0, 0.8, 0.6, dropout=0.5), "recipe": "recbole"}
    assert quality._same_protocol(recbole, unset)
    assert quality._same_protocol(_run("sair", 0, 0.8, 0.6), unset)
    assert quality._same_protocol({**recbole, "model_config": {"dropout": 0.2}}, unset)
    merged = quality.merge_runs([recbole], [_run("sair", 0, 0.8, 0.6)], unset, Path("x"))
    assert [r["recipe"] for r in merged] == ["default", "recbole"]
    assert quality.model_config_for("sasrec", "recbole", None).dropout == 0.5
    assert quality.model_config_for("sasrec", "default", None).dropout == 0.1
    assert quality.model_config_for("sasrec", "recbole", 0.3).dropout == 0.3
    assert quality.model_config_for("sair", "dropout_0.5", None).dropout == 0.5
    given = argparse.Namespace(
        max_epochs=200, patience=20, dropout=0.3, batch_size=256, item_catalog="interactions"
    )
    assert not quality._same_protocol(recbole, given)


def test_a_configuration_that_sets_the_batch_size_trains_at_it_in_the_protocol_s_file():
    """Without `--batch-size`, a configuration's `train.batch_size` is one of its settings
    (its runs go to the protocol's file, like any configuration's); the flag is another
    protocol for every run, with its own file."""
    unset = argparse.Namespace(
        max_epochs=200, patience=20, dropout=None, batch_size=None, item_catalog="interactions"
    )
    assert quality.run_batch_size("plus_batch_128", None) == 128
    assert quality.run_batch_size("sasrec_plus", None) == 256
    assert quality.run_batch_size("plus_batch_128", 16) == 16
    plus = {**_run("sair", 0, 0.8, 0.6, batch=128, dropout=0.1), "recipe": "plus_batch_128"}
    assert quality._same_protocol(plus, unset)
    assert quality._same_protocol(_run("sair", 0, 0.8, 0.6), unset)
    assert quality._same_protocol({**plus, "recipe": "sasrec_plus"}, unset)
    at_256 = argparse.Namespace(**{**vars(unset), "batch_size": 256})
    assert not quality._same_protocol(plus, at_256)
    _, train_config = quality.run_configs(
        "ml-1m",
        "sair",
        0,
        argparse.Namespace(
            **vars(unset),
            recipe="plus_batch_128",
            num_items=3706,
            early_stopping_metric="full_ndcg_10",
        ),
    )
    assert (train_config.batch_size, train_config.epochs) == (128, 200)
    # A configuration's ingestion settings are recorded and make another configuration.
    planned = {
        recipe: quality.planned_run(
            "ml-1m",
            "sair",
            0,
            argparse.Namespace(
                **vars(unset),
                recipe=recipe,
                num_items=3706,
                early_stopping_metric="full_ndcg_10",
            ),
        )
        for recipe in ("plus_batch_128", "default")
    }
    assert planned["plus_batch_128"]["data_config"] == {"training_windows": "last"}
    assert planned["default"]["data_config"] == {"training_windows": "all"}
    keys = {quality_summary.config_key(run) for run in planned.values()}
    assert len(keys) == 2
    assert quality.results_path_for("ml-1m", None, "interactions").name == "ml-1m.json"
    assert quality.export_name("ml-1m", "sair", 0, "plus_batch_128") == (
        "ml-1m-sair-plus_batch_128-seed0"
    )


def test_a_run_records_how_its_training_examples_were_built():
    """`training_windows` is recorded for every run (DataConfig's unless the configuration
    names it) and tells configurations apart; "last", what every run had before it was
    recorded, leaves the key as it was."""
    assert quality.run_data_config("default") == {"training_windows": "all"}
    assert quality.run_data_config("sasrec_plus") == {"training_windows": "last"}
    run = _run("sair", 0, 0.8, 0.6)
    last = {**run, "data_config": {"training_windows": "last"}}
    every = {**run, "data_config": {"training_windows": "all"}}
    assert quality.config_key(last) == quality.config_key(run)
    assert quality.config_key(every) != quality.config_key(run)


def test_a_constant_learning_rate_leaves_the_key_as_it_was():
    """Runs recorded before `learning_rate_schedule` existed trained at a constant rate."""
    run = _run("sair", 0, 0.8, 0.6)
    constant = {
        **run,
        "train_config": {**run["train_config"], "learning_rate_schedule": "constant"},
    }
    cosine = {**run, "train_config": {**run["train_config"], "learning_rate_schedule": "cosine"}}
    assert quality.config_key(constant) == quality.config_key(run)
    assert quality.config_key(cosine) != quality.config_key(run)


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
    default = quality.model_config_for("sair", "default", 0.2)
    assert (default.num_interests, default.top_k, default.max_len) == (10, 3, 200)
    top_1 = quality.model_config_for("sair", "top_1", 0.2)
    assert (top_1.num_interests, top_1.top_k) == (10, 1)
    pool = quality.model_config_for("sair", "pool_20_top_8", 0.2)
    assert (pool.num_interests, pool.top_k, pool.dropout) == (20, 8, 0.2)


def test_the_results_page_shows_a_spread_over_three_seeds_or_more_only():
    runs = [_run("sair", s, 0.84, 0.62, val=0.17 + s / 100, full=0.16 + s / 100) for s in range(2)]
    data = {"users": 9, "items": 5, "actions": 30}
    page = results_page.page({"ml-1m": {"dataset": "ml-1m", "data": data, "runs": runs}})
    assert "| sair | ours (2 runs) | – | – | 0.1650 | – |" in page
    assert "±" not in page.split("## ml-1m")[1]


def test_a_screening_step_of_the_search_is_reported_on_validation_only():
    runs = [_run("sair", 0, 0.84, 0.62, epochs=20, patience=10, val=0.171, full=0.1234)]
    data = {"users": 9, "items": 5, "actions": 30}
    short = {"dataset": "ml-1m", "data": data, "runs": runs}
    page = results_page.page({"ml-1m-e20": short})
    assert "A screening step" in page and "validation only, no test numbers" in page
    assert "0.1234" not in page and "(test)" not in page  # no test number of the screen
    assert "| **" in page and "0.1710" in page  # its validation, in the configurations table
    runs[0]["train_config"]["epochs"] = quality.OUR_EPOCHS  # the full budget: test reported
    page = results_page.page({"ml-1m": {**short, "runs": runs}})
    assert "A screening step" not in page and "0.1234" in page


def test_the_papers_table_ii_stands_beside_its_protocol_at_any_budget_not_another_batch():
    data = {"users": 9, "items": 5, "actions": 30}
    result = {"dataset": "ml-1m", "data": data, "runs": [_run("sair", 0, 0.84, 0.62)]}
    paper_row = "| sair | paper | 0.7540 | 0.8334 |"
    for name in ("ml-1m", "ml-1m-e200-p20", "ml-1m-item_table-e200-p20"):
        assert paper_row in "\n".join(results_page.section(name, result, None)), name
    assert paper_row not in "\n".join(results_page.section("ml-1m-batch16", result, None))


def test_results_page_names_the_batch_size_of_a_protocol_or_of_each_configuration():
    def protocol(*batches):
        runs = [_run("sair", 0, 0.8, 0.6, batch=b) for b in batches]
        return results_page._protocol({"runs": runs, "data": {}})

    assert "histories per step" not in protocol(256, 256)
    assert protocol(16, 16).startswith("**16 histories per step**")
    assert protocol(128, 256) == "histories per step: each configuration's ([128, 256])"


def test_a_configuration_names_the_head_switches_it_changed():
    mixture = _run("sair", 0, 0.8, 0.6, output_mixture=True, mixture_weights="uniform")
    described = results_page._describe(quality_summary.configuration(mixture))
    assert "; mixture weights uniform; output mixture True; max_len" in described
    product = _run("sair", 0, 0.8, 0.6, output_mixture=False, balance_weight=0.0)
    assert "mixture" not in results_page._describe(quality_summary.configuration(product))
