#!/usr/bin/env bash
# One prepared GPU check (<= 10 minutes on one H100/H200), run from the repository root:
#   bash bench/gpu_check.sh            (PYTHON=... to pick the interpreter)
# Needs a CUDA torch with megatron-core, transformers and this repo's dependencies installed
# (optionally transformer-engine and flash-attn: each found is checked too). Writes the figures
# to bench/gpu_check.out; copy them into bench/RESULTS.md.
#  1. packed forward on the GPU == transformers on the CPU, per attention backend (bench/gpu_check.py)
#  2. collate cost per 8192-token row, THD vs the old dense mask (bench/collate_cost.py)
#  3. one training step of the Qwen2.5-7B-width proxy (4 layers, seq 8192, bf16): cj2 vs a
#     transformers loop, MFU and planner vs measured peak (bench/train_step.py)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=bench/gpu_check.out
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -c 'import torch, megatron.core, transformers; assert torch.cuda.is_available(), "no CUDA device"; print(torch.__version__, torch.cuda.get_device_name())' | tee "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$OUT"
timeout 180 "$PY" bench/gpu_check.py | tee -a "$OUT"
(cd bench && timeout 60 "$PY" collate_cost.py) | tee -a "$OUT"
(cd bench && timeout 300 "$PY" train_step.py --hidden 3584 --layers 4 --heads 28 --kv-heads 4 --ffn 18944 \
    --vocab 152064 --seq-length 8192 --micro-batch 1 --bf16 --steps 10 --warmup 3) | tee -a "$OUT"
echo "GPU CHECK DONE" | tee -a "$OUT"
