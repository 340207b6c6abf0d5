#!/usr/bin/env bash
# The paper's protocol on ML-1M and ML-100K, every variant, 3 seeds (about a day on 2 cores),
# then the results page. Safe to stop and rerun at any point: finished runs are kept
# (--resume) and an unfinished run continues from its last saved epoch.
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
    --resume --export-dir "$export_dir"
done
"$python" benchmarks/results_page.py
