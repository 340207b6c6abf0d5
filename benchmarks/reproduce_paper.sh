#!/usr/bin/env bash
# The paper's protocol on ML-1M and ML-100K, every variant, 3 seeds, then the ablation
# recipes on ML-1M, then the results page: about 60 hours on 2 cores (an ML-1M run
# takes 1.5-3 h). Every run has the budget Table II was reproduced with, 200 epochs at
# most and patience 20 (results/<dataset>-e200-p20.json); each ablation changes one
# setting of the product's default of the day it runs. Safe to stop and rerun at any
# point: finished runs are kept (--resume) and an unfinished run continues from its last
# saved epoch.
#
#   benchmarks/reproduce_paper.sh [EXPORT_DIR]
#
# EXPORT_DIR (default .benchmark-models/, git-ignored) receives each trained model as a
# SavedModel, e.g. for `./sair heatmap`.
set -euo pipefail
SAIR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$SAIR_ROOT"
# shellcheck source=../scripts/bootstrap.sh
source scripts/bootstrap.sh
sair_ensure_venv "$SAIR_ROOT"
python=$SAIR_VENV_PY
export_dir=${1:-$SAIR_ROOT/.benchmark-models}
for dataset in ml-1m ml-100k; do
  "$python" benchmarks/quality.py --dataset "$dataset" \
    --variants sair sasrec sair_full sair_label --seeds 0 1 2 \
    --max-epochs 200 --patience 20 --resume --export-dir "$export_dir"
done
# Ablations (docs/BENCHMARKS.md, "What separates SAIR from SASRec?"): one change each, sair (and sasrec where the change applies
# to it too). The loss and the paper's own eq. 10 over 3 seeds, the others seed 0.
"$python" benchmarks/quality.py --dataset ml-1m --variants sair sasrec --seeds 0 1 2 \
  --recipe softmax --max-epochs 200 --patience 20 --resume --export-dir "$export_dir"
"$python" benchmarks/quality.py --dataset ml-1m --variants sair --seeds 0 1 2 \
  --recipe paper --max-epochs 200 --patience 20 --resume --export-dir "$export_dir"
"$python" benchmarks/quality.py --dataset ml-1m --variants sair sasrec --seeds 0 \
  --recipe recbole --max-epochs 200 --patience 20 --resume --export-dir "$export_dir"
for recipe in no_decov dropout_0.5 top_1 pool_20_top_8 balance interaction_residual \
  paper_softmax softmax_pool_20_top_8; do
  "$python" benchmarks/quality.py --dataset ml-1m --variants sair --seeds 0 \
    --recipe "$recipe" --max-epochs 200 --patience 20 --resume --export-dir "$export_dir"
done
# The paper's candidates: RecBole's catalog holds the 177 movies nobody rated
# (results/ml-1m-item_table-e200-p20.json; docs/BENCHMARKS.md, "How much does the candidate pool move the sampled metrics?").
"$python" benchmarks/quality.py --dataset ml-1m --variants sair sasrec --seeds 0 \
  --item-catalog item_table --max-epochs 200 --patience 20 --resume --export-dir "$export_dir"
"$python" benchmarks/candidate_pool.py --dataset ml-1m --export-dir "$export_dir" \
  --results benchmarks/results/ml-1m-e200-p20.json
"$python" benchmarks/results_page.py
