#!/usr/bin/env bash
# The bounded search for the product's default configuration, on validation only
# (docs/BENCHMARKS.md). Each step writes validation scores for every configuration it runs;
# `quality_summary.choose` picks by mean validation full_ndcg_10, and only the chosen
# configuration's test numbers are reported. Safe to stop and rerun (--resume).
#
# Every step trains at the product's budget (TrainConfig: 60 epochs, patience 10).
#
#   benchmarks/search_default.sh screen     # ML-100K, seed 0, sair and sasrec
#   benchmarks/search_default.sh short A B  # ML-1M, seed 0, configurations A B (1-2 h each)
#   benchmarks/search_default.sh confirm A  # ML-1M, seeds 0-2
set -euo pipefail
SAIR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$SAIR_ROOT"
# shellcheck source=../scripts/bootstrap.sh
source scripts/bootstrap.sh
sair_ensure_venv "$SAIR_ROOT"
python=$SAIR_VENV_PY
CANDIDATES=(default sasrec_plus pre_layer_norm cosine gbce sampled_softmax
  sampled_softmax_1024 sampled_softmax_mixed
  softmax_pool_20_top_8 plus_pool_20_top_8 plus_batch_128 recbole dropout_0.2
  blocks_4_dropout_0.2 blocks_4_pre_layer_norm untied_output no_categories ffn_4x_gelu
  hidden_256 ligr)
# sair, and sasrec unless another configuration has the same sasrec (quality.py runs that
# one's sasrec under its own name).
variants() {
  local shared
  shared=$("$python" -c "import sys; sys.path.insert(0, 'benchmarks'); import experiments; \
print(experiments.sasrec_configuration('$1'))")
  if [ "$shared" = "$1" ]; then echo "sair sasrec"; else echo "sair"; fi
}
step=${1:?screen, short or confirm}
shift
case "$step" in
  screen)
    for name in "${CANDIDATES[@]}"; do
      # shellcheck disable=SC2046
      "$python" benchmarks/quality.py --dataset ml-100k --variants $(variants "$name") \
        --seeds 0 --recipe "$name" --resume
    done ;;
  short)
    for name in "$@"; do
      # shellcheck disable=SC2046
      "$python" benchmarks/quality.py --dataset ml-1m --variants $(variants "$name") \
        --seeds 0 --recipe "$name" --resume
    done ;;
  confirm)
    for name in "$@"; do
      # shellcheck disable=SC2046
      "$python" benchmarks/quality.py --dataset ml-1m --variants $(variants "$name") \
        --seeds 0 1 2 --recipe "$name" --resume
    done ;;
  *) echo "unknown step $step (screen, short or confirm)" >&2; exit 2 ;;
esac
"$python" benchmarks/results_page.py
