"""The data contract between ingestion, the Trainer, the Evaluator and serving.

Examples carry internal item indices only (int64). Index 0 is padding, 1 is `[UNK]`; real
items start at `FIRST_ITEM_INDEX`. The same reserved indices apply to categories.

- train examples: `user_id`, `item_seq` (the user's training prefix, most recent `max_len`).
- eval / test examples: `user_id`, `item_seq` (history before the held-out item, most recent
  `max_len`), `target` (the held-out item), `seen_items` (every distinct item the user
  interacted with before the target, the whole history and not only the `max_len` window:
  what the full-catalog ranking excludes), `negatives` (`num_eval_negatives` items the
  user never interacted with, sampled uniformly with a fixed seed; empty for a user with
  fewer unseen items than that, who is then evaluated on the full catalog only) and
  `history_bucket` (the untruncated history length, bucketed, for sliced evaluation).
"""

USER_ID = "user_id"
ITEM_SEQ = "item_seq"
TARGET = "target"
NEGATIVES = "negatives"
SEEN_ITEMS = "seen_items"
# eval / test only: the same four as raw item ids, so that a model built on another
# vocabulary (the last blessed one, to which the Evaluator compares) ranks the same items.
ITEM_SEQ_IDS = "item_seq_ids"
TARGET_ID = "target_id"
NEGATIVE_IDS = "negative_ids"
SEEN_ITEM_IDS = "seen_item_ids"
# eval / test only: the history length before truncation, bucketed, for sliced metrics.
HISTORY_BUCKET = "history_bucket"
HISTORY_BUCKET_EDGES = (10, 50, 150)

PAD_INDEX = 0
UNK_INDEX = 1
FIRST_ITEM_INDEX = 2
PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"

SPLIT_TRAIN = "train"
SPLIT_EVAL = "eval"
SPLIT_TEST = "test"
SPLITS = (SPLIT_TRAIN, SPLIT_EVAL, SPLIT_TEST)

# The examples artifact holds a copy of the vocabulary in this folder beside its splits.
VOCABULARY_SUBDIR = "vocabulary"

# File names inside the vocabulary artifact.
ITEM_VOCAB_FILE = "items.tsv"
CATEGORY_VOCAB_FILE = "categories.tsv"
# Interactions per item index in the training split (index \t count): the popularity
# baseline the Evaluator's gate compares with, and the serving fallback.
TRAIN_COUNTS_FILE = "train_counts.tsv"
# The max_len the ingestion cut the sequences to (the one chosen when it was "auto").
MAX_LEN_FILE = "max_len.txt"


def history_bucket(length: int) -> str:
    """ "<10", "10-49", "50-149" or ">=150" (edges `HISTORY_BUCKET_EDGES`)."""
    low = 0
    for edge in HISTORY_BUCKET_EDGES:
        if length < edge:
            return f"<{edge}" if low == 0 else f"{low}-{edge - 1}"
        low = edge
    return f">={low}"
