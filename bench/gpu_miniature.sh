#!/usr/bin/env bash
# The GPU miniature Table 4 (+exp=mini_table4_gpu) on a bare, offline GPU node (docs/mini_ablation.md).
#
# What the node lacks travels in two pieces, because one transfer to a lent device carries at most
# 64 MiB and SmolLM2-135M's GGUF alone is 94 MiB (bench/gpu_bundle.py prepares them here):
#   .gpu/model.part0   first half of the GGUF: copied to $CJ2_GPU_STAGE by an earlier run on the
#                      same (still warm) machine: `bash bench/gpu_miniature.sh --stage`
#   .gpu/model.part1   second half, with .gpu/model.json (size and sha256), .gpu/data (GSM8K test,
#                      MMLU) and the wheelhouse, carried by the run itself
# The run joins and checks the model (sha256), installs missing wheels privately
# (bench/offline/install.py), converts the GGUF once, runs the preset and copies the tables to
# $CJ2_RESULTS_DIR. Every step prints what it did; nothing is fetched from a network.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
STAGE=${CJ2_GPU_STAGE:-/tmp/cj2-gpu}
RESULTS=${CJ2_RESULTS_DIR:-bench/gpu_miniature.out.d}
mkdir -p "$STAGE" "$RESULTS"

if [[ "${1:-}" == "--stage" ]]; then
    cp .gpu/model.part0 "$STAGE/" && echo "staged $(du -h "$STAGE/model.part0" | cut -f1) in $STAGE" && exit 0
    echo "no .gpu/model.part0 here: run python bench/gpu_bundle.py on the machine that prepares the transfer" >&2; exit 1
fi

"$PYTHON" bench/gpu_bundle.py join --stage "$STAGE" --out "$STAGE/SmolLM2-135M-Instruct.Q4_1.gguf" || exit 1
site=$("$PYTHON" bench/offline/install.py --target wheelhouse/site-py"$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')" | tail -1 | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["target"])')
export PYTHONPATH="${site:+$site:}$PWD"
export CJ2_MODELS="$STAGE/models" CJ2_DATA="$PWD/.gpu/data" CJ2_MINI_TABLE4="$STAGE/mini_table4_gpu"
"$PYTHON" -c "from cj2.models.bundled_smollm2 import DIR_NAME; from cj2.sample.engines.gguf_convert import converted_dir; import os, pathlib; \
d = pathlib.Path(os.environ['CJ2_MODELS']); d.mkdir(parents=True, exist_ok=True); link = d / DIR_NAME; \
link.exists() or link.symlink_to(converted_dir('$STAGE/SmolLM2-135M-Instruct.Q4_1.gguf').resolve(), target_is_directory=True); print('model', link)" || exit 1
start=$(date +%s)
"$PYTHON" launch/mini_table4.py +exp=mini_table4_gpu "$@" 2>&1 | tee "$RESULTS/mini_table4_gpu.log"
status=${PIPESTATUS[0]}
echo "{\"check\": \"mini_table4_gpu\", \"ok\": $([[ $status == 0 ]] && echo true || echo false), \"seconds\": $(( $(date +%s) - start ))}" | tee -a "$RESULTS/gpu_miniature.jsonl"
cp "$CJ2_MINI_TABLE4"/loss_comparison_*.md "$CJ2_MINI_TABLE4"/loss_comparison_heldout.json "$CJ2_MINI_TABLE4"/loss_comparison_heldout.png "$CJ2_MINI_TABLE4"/generation.md "$CJ2_MINI_TABLE4"/summary.json "$RESULTS/" 2>/dev/null
exit $status
