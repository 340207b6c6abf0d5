"""The Trainer module's own helpers (run_fn itself runs in the pipeline's end-to-end test)."""

from sair_keras.config import ModelConfig
from sair_keras.trainer_module import log_every, objective_description


def test_the_objective_line_says_why_auto_chose_it():
    assert objective_description(ModelConfig(), 3708) == (
        "softmax (auto: 3,706 items, the full softmax up to 50,000)"
    )
    assert objective_description(ModelConfig(), 1_000_002).startswith("sampled_softmax (auto:")
    assert objective_description(ModelConfig(training_loss="gbce"), 3708) == "gbce"


def test_about_ten_epoch_lines_per_run():
    assert (log_every(200), log_every(30), log_every(5)) == (20, 3, 1)


def test_the_checkpoint_folder_follows_the_examples_and_settings_but_not_the_epoch_budget():
    from sair_keras.config import TrainConfig
    from sair_keras.trainer_module import checkpoint_dir

    base = checkpoint_dir("/r", "/ex/1", ModelConfig(), TrainConfig(epochs=10))
    assert base.startswith("/r/")
    assert checkpoint_dir("/r", "/ex/1", ModelConfig(), TrainConfig(epochs=50)) == base
    assert checkpoint_dir("/r", "/ex/2", ModelConfig(), TrainConfig(epochs=10)) != base
    assert checkpoint_dir("/r", "/ex/1", ModelConfig(dropout=0.3), TrainConfig()) != base
    assert checkpoint_dir("/r", "/ex/1", ModelConfig(), TrainConfig(seed=1)) != base
    # A warm start from a blessed model is another training than one from scratch.
    warm = checkpoint_dir("/r", "/ex/1", ModelConfig(), TrainConfig(epochs=10), "/blessed/7")
    assert warm != base
    assert checkpoint_dir("/r", "/ex/1", ModelConfig(), TrainConfig(), "/blessed/8") != warm
