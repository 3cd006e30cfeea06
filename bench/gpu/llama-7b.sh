#!/usr/bin/env bash
# The 7B figures of the speed issue on one GPU machine, in one run: a random Llama-2-7B-shaped
# checkpoint made there and streamed onto the GPU as NF4 (load time, bytes held, one 128-token
# prefill), one note scored end to end, the loopback server under load with four rank-16 adapters
# (one adapter, four mixed, batching off; concurrency 1/8/16/32), and one QLoRA step's time and
# memory. The GPU's memory is sampled every 500 ms throughout (its peak: gpu-memory.csv).
#
# usage: bench/gpu/llama-7b.sh DJL_SRC [OUT_DIR]
#   DJL_SRC  a DJL 0.36.0 source tree, for bench/gpu/build-djl-jni.sh
#   OUT_DIR  where the reports go (default: $OUT when set, else bench/results/gpu-7b)
# needs: python3 with a CUDA torch, g++, nvidia-smi, about 30 GB of disk for the checkpoint
# (PROTORAD_BENCH_7B_DIR, default /tmp/protorad-7b; reused when present), a built tree
# (./mvnw -B package -DskipTests), and time: tens of minutes.
set -euo pipefail
if [ $# -lt 1 ]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
cd "$(dirname "$0")/../.."
out=${2:-${OUT:-bench/results/gpu-7b}}
mkdir -p "$out"
eval "$(bench/gpu/build-djl-jni.sh "$1")"
export DJL_OFFLINE=true
export PROTORAD_BENCH_7B_DIR=${PROTORAD_BENCH_7B_DIR:-/tmp/protorad-7b}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt"
nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader -lms 500 > "$out/gpu-memory.csv" &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT

step() { echo "== $1 ($(date -u +%H:%M:%S))" | tee -a "$out/steps.txt"; }

step "llama-7b-shape: write the checkpoint, NF4 load, bytes held, 128-token prefill"
./protorad bench llama-7b-shape 2>&1 | tee "$out/llama-7b-shape.txt"

step "score: one note, end to end (process start and load included)"
{ time ./protorad score --model "$PROTORAD_BENCH_7B_DIR" --json \
    --note "67M fall on apixaban, head strike, confused. r/o ICH."; } > "$out/score-one-note.txt" 2>&1

step "load: the server under load at 7B, four rank-16 adapters"
PROTORAD_JAVA_OPTS="${PROTORAD_JAVA_OPTS:-} -Dprotorad.bench.model=$PROTORAD_BENCH_7B_DIR -Dprotorad.bench.seconds=10" \
  ./protorad bench load 2>&1 | tee "$out/load-7b.txt"

step "training-memory-7b: one QLoRA step, sequence 128"
./protorad bench training-memory-7b 2>&1 | tee "$out/training-memory-7b.txt"

step "done; peak GPU memory used (MiB):"
sort -t, -k2 -n "$out/gpu-memory.csv" | tail -1 | tee -a "$out/steps.txt"
