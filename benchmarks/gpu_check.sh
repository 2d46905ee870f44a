#!/usr/bin/env bash
# One command for a machine with a CUDA GPU, about 8 minutes: the speed of the paper's scale there.
#
#     bash benchmarks/gpu_check.sh                       # tables under $OUT, else ./gpu_check_out
#     GPU_CHECK_DRY_RUN=1 bash benchmarks/gpu_check.sh   # every step on the CPU at the test preset (seconds)
#
# Steps, each with its own time limit, each writing <step>.md (its table) and <step>.log:
#   environment   nvidia-smi, torch and CUDA versions
#   equivalence   CPU-vs-CUDA: the same games give the same A2C updates (relative 1e-3), and the same
#                 weights play the pool alike on both devices (5 standard errors); test preset
#   paper_scale   benchmarks/paper_scale.py on cuda: ms per A2C iteration (rollout, update) at the paper's
#                 batches, PPI tokens/s and decisions/s, projected hours per experiment and seed count
#   step1         as many paper-scale A2C Step-1 iterations as fit in GPU_CHECK_STEP1_SECONDS (default 100)
#   step1_compiled  the same with the run setting compile=reduce-overhead (torch.compile + CUDA graphs;
#                 its first iteration compiles), or the one line saying why it fell back
#   plan          ipd-coop's cost plans (a2c and ppi, fig1 and step3) at the paper preset on cuda
# then summary.md, all tables in one file. Exit status 1 if a step failed (the others still run).
# Settings: OUT, PYTHON (default python), GPU_CHECK_STEP1_SECONDS, GPU_CHECK_DRY_RUN.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
python="${PYTHON:-python}"
out="${OUT:-./gpu_check_out}"
step1_seconds="${GPU_CHECK_STEP1_SECONDS:-100}"
if [ "${GPU_CHECK_DRY_RUN:-0}" = 1 ]; then
    device=cpu; devices=cpu,cpu; preset=test; quick=--quick; step1_seconds=5; games=512
else
    if ! "$python" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
        echo "gpu_check: no CUDA GPU visible to torch here (torch.cuda.is_available() is False); run it on a machine with one, or set GPU_CHECK_DRY_RUN=1 to try the script on the CPU" >&2
        exit 1
    fi
    device=cuda; devices=cpu,cuda; preset=paper; quick=; games=8192
fi
mkdir -p "$out" || { echo "gpu_check: cannot create the output folder $out" >&2; exit 1; }
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"   # the CPU side of the equivalence check: one thread, as everywhere
failed=0

step() {  # step NAME SECONDS COMMAND...: run COMMAND with a time limit, its stdout to NAME.md, stderr to NAME.log
    local name=$1 limit=$2 started=$SECONDS
    shift 2
    echo "gpu_check: $name (at most ${limit} s) ..." >&2
    local runner=(timeout "$limit")
    if declare -F "$1" >/dev/null; then runner=(); fi  # a shell function of this script: timeout cannot run it
    if ${runner[@]+"${runner[@]}"} "$@" >"$out/$name.md" 2>"$out/$name.log"; then
        echo "gpu_check: $name done in $((SECONDS - started)) s -> $out/$name.md" >&2
    else
        echo "gpu_check: $name FAILED after $((SECONDS - started)) s (exit $?; see $out/$name.log)" >&2
        failed=1
    fi
}

environment() {
    if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; fi
    "$python" -c 'import torch; print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, device: " + (torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU only") + f", CPU threads {torch.get_num_threads()}")'
    git log -1 --format='commit %h %s' 2>/dev/null || true
}

step environment 60 environment
step equivalence 90 "$python" benchmarks/gpu_check.py equivalence --devices "$devices" --games "$games"
step paper_scale 120 "$python" benchmarks/paper_scale.py --device "$device" --repeats 3 $quick
step step1 $((step1_seconds + 60)) "$python" benchmarks/gpu_check.py step1 --device "$device" --preset "$preset" --seconds "$step1_seconds"
step step1_compiled $((step1_seconds + 120)) "$python" benchmarks/gpu_check.py step1 --device "$device" --preset "$preset" --seconds "$step1_seconds" --compile reduce-overhead
step plan 120 "$python" benchmarks/gpu_check.py plan --device "$device" --preset "$preset"
for name in environment equivalence paper_scale step1 step1_compiled plan; do
    printf '## %s\n\n' "$name"
    cat "$out/$name.md"
    printf '\n'
done >"$out/summary.md"
echo "gpu_check: tables in $out (summary.md has them all)$([ $failed = 1 ] && echo '; a step FAILED, see its .log')" >&2
exit $failed
