#!/usr/bin/env bash
# The prepared GPU check: one H100/H200, at most 6 minutes, no network needed. From the repository root:
#
#   CJ2_RESULTS_DIR=DIR bash bench/gpu_check.sh            (PYTHON=... picks the interpreter; default python3)
#   bash bench/gpu_check.sh --smoke                         (the same on the CPU with tiny shapes: CI's dry run)
#
# Dependencies the image lacks (megatron-core, hydra, omegaconf, antlr4, submitit ...) are installed from
# wheelhouse/py<X.Y>/ (make wheelhouse PYTHON_VERSION=X.Y, where the index is reachable) into the private
# wheelhouse/site-py<X.Y>/, never over the image's own packages (its CUDA torch above all).
# Every check prints one JSON line per result, collected in $CJ2_RESULTS_DIR/gpu_check.jsonl (default
# bench/), the whole log in $CJ2_RESULTS_DIR/gpu_check.out and $CJ2_GPU_CHECK_OUT (default
# bench/gpu_check.out). A failing, crashing or timed-out check is reported and the next one runs; the
# last line sums up and the exit status is 1 if any check failed. Checks (bench/RESULTS.md has the figures):
#   dependencies  what was installed from the wheelhouse (bench/offline/install.py)
#   env           Python, torch, GPU, Transformer Engine / flash-attn present or not
#   imports       the training and evaluation path imports; the GPU presets compose
#   packed_forward  cj2's packed forward == transformers per sample, per attention backend (bench/gpu_check.py)
#   host_sync     one training step with torch.cuda.set_sync_debug_mode("error") around each micro-batch
#   collate_cost  THD collate vs the old dense mask per 8192-token row (bench/collate_cost.py)
#   train_step    the Qwen2.5-7B-width proxy (4 layers, seq 8192, bf16): MFU, planner vs measured peak,
#                 cj2 vs a transformers loop; once with sdpa and, where Transformer Engine exists, with te
set -uo pipefail  # no -e: one failing check must not stop the others
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
SMOKE=
[[ ${1:-} == --smoke ]] && SMOKE=--smoke
RESULTS_DIR=${CJ2_RESULTS_DIR:-bench}
mkdir -p "$RESULTS_DIR"
RESULTS=$RESULTS_DIR/gpu_check.jsonl
LOGS=("${CJ2_GPU_CHECK_OUT:-bench/gpu_check.out}")
[[ -n ${CJ2_RESULTS_DIR:-} ]] && LOGS+=("$RESULTS_DIR/gpu_check.out")
: >"$RESULTS"
for log in "${LOGS[@]}"; do : >"$log"; done
# Seconds for all checks; a check starts only with this much left, and never runs past it.
BUDGET_S=${CJ2_GPU_CHECK_BUDGET_S:-330}
[[ -n $SMOKE ]] && BUDGET_S=${CJ2_GPU_CHECK_BUDGET_S:-1800}
MIN_LEFT_S=20
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TOKENIZERS_PARALLELISM=false

say() { tee -a "${LOGS[@]}"; }

# The JSON line of a check that died without one (or timed out), from the tail of its output.
died() {  # NAME EXIT_CODE LIMIT_S OUTPUT_FILE
    "$PY" - "$@" <<'EOF'
import json, sys
name, rc, limit, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
tail = open(path, errors="replace").read().strip().splitlines()[-12:]
error = f"timed out after {limit}s" if rc in (124, 137) else f"exit status {rc}"
print(json.dumps({"check": name, "ok": False, "error": error, "tail": tail}))
EOF
}

run_check() {  # NAME LIMIT_S COMMAND...: its output to the logs, its JSON lines to the results
    local name=$1 limit=$2 left=$((BUDGET_S - SECONDS)) out rc
    shift 2
    if ((left < MIN_LEFT_S)); then
        echo "{\"check\": \"$name\", \"ok\": false, \"error\": \"not run: the ${BUDGET_S}s budget is spent\"}" | tee -a "$RESULTS" | say
        return
    fi
    ((limit > left)) && limit=$left
    echo "--- $name (at most ${limit}s)" | say
    out=$(mktemp)
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$out" | say
    rc=${PIPESTATUS[0]}
    grep '^{' "$out" >>"$RESULTS"
    if ((rc != 0)); then died "$name" "$rc" "$limit" "$out" | tee -a "$RESULTS" | say; fi
    rm -f "$out"
}

started=$(date -u +%FT%TZ)
echo "cj2 GPU check ${SMOKE:-(full)} started $started on $(uname -n)" | say
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | say

deps=$(mktemp)
run_check dependencies 120 "$PY" bench/offline/install.py
grep '"check": "dependencies"' "$RESULTS" | tail -1 >"$deps"
target=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("target", ""))' "$deps" 2>/dev/null)
rm -f "$deps"
[[ -n $target ]] && export PYTHONPATH="$PWD:$target${PYTHONPATH#"$PWD"}"

run_check env 60 "$PY" bench/gpu_check.py env $SMOKE
if ! grep -q '"check": "env".*"ok": true' "$RESULTS"; then
    echo '{"check": "summary", "ok": false, "error": "no usable CUDA device: nothing else can be checked (bash bench/gpu_check.sh --smoke is the CPU dry run)"}' | tee -a "$RESULTS" | say
    exit 1
fi
run_check imports 120 "$PY" bench/gpu_check.py imports $SMOKE
run_check packed_forward 150 "$PY" bench/gpu_check.py packed_forward $SMOKE
run_check host_sync 120 "$PY" bench/gpu_check.py host_sync $SMOKE
if [[ -n $SMOKE ]]; then
    run_check collate_cost 60 bash -c "cd bench && \"$PY\" collate_cost.py --seq-length 512 --repeats 1"
    run_check train_step 120 bash -c "cd bench && \"$PY\" train_step.py --hidden 64 --layers 2 --heads 4 --kv-heads 2 --ffn 128 --vocab 1024 --seq-length 256 --micro-batch 2 --steps 1 --warmup 1"
else
    run_check collate_cost 60 bash -c "cd bench && \"$PY\" collate_cost.py"
    PROXY="--hidden 3584 --layers 4 --heads 28 --kv-heads 4 --ffn 18944 --vocab 152064 --seq-length 8192 --micro-batch 1 --bf16 --steps 5 --warmup 2"
    run_check train_step 150 bash -c "cd bench && \"$PY\" train_step.py $PROXY --attention sdpa"
    if grep -q '"check": "packed_forward", "backend": "te".*"ok": true' "$RESULTS"; then
        run_check train_step 150 bash -c "cd bench && \"$PY\" train_step.py $PROXY --attention te"
    else
        echo '{"check": "train_step", "attention": "te", "ok": null, "skipped": "Transformer Engine is missing here (or failed its packed_forward check)"}' | tee -a "$RESULTS" | say
    fi
fi

"$PY" - "$RESULTS" "$SECONDS" "$BUDGET_S" <<'EOF' | tee -a "$RESULTS" | say
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
failed = sorted({f"{r['check']}" + (f":{r['backend']}" if "backend" in r else "") for r in lines if r.get("ok") is False})
print(json.dumps({"check": "summary", "ok": not failed, "failed": failed, "results": len(lines), "seconds": int(sys.argv[2]), "budget_s": int(sys.argv[3])}))
EOF
echo "GPU CHECK DONE" | say
! grep -q '"check": "summary", "ok": false' "$RESULTS"
