#!/usr/bin/env bash
# Pre-training on a real GPU (the lent device machine; see bench/RESULTS.md): the WebGPU
# pre-training tests, then seconds per step of each method on webgpu and on the CPU backend of
# the same machine, then the whole experiment-cls --quick pipeline on webgpu.
# Usage, from the repo root: bash bench/gpu_pretrain.sh [STEPS]   (default 30 steps per timing)
# PHASES="tests webgpu cpu quick" (the default) selects the parts to run.
# Offline use: carry .gpu/deno.xz (Deno 2.9.6, xz), .gpu/denodir (DENO_DIR with fast-check) and
# .gl/*.deb (GL/EGL/Vulkan loader packages); they are unpacked here when present.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
STEPS="${1:-30}"
PHASES="${PHASES:-tests webgpu cpu quick}"
has() { [[ " $PHASES " == *" $1 "* ]]; }
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
if [[ -d .gl ]]; then for f in .gl/*.deb; do dpkg -x "$f" / 2>/dev/null; done; ldconfig; fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[[ -f $icd ]] && export VK_DRIVER_FILES=$icd
DENO=deno
if [[ -f .gpu/deno.xz ]]; then xz -dc .gpu/deno.xz > /tmp/deno && chmod +x /tmp/deno && DENO=/tmp/deno; fi
FLAGS=()
if [[ -d .gpu/denodir ]]; then export DENO_DIR="$PWD/.gpu/denodir"; FLAGS=(--no-lock --cached-only); fi
OUT="${OUT:-/tmp/gpu_pretrain}"; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
if has tests; then
  echo "== WebGPU pre-training tests"
  "$DENO" test "${FLAGS[@]}" -A tests/webgpu/pretrain_test.ts tests/models/tokenizers_webgpu_test.ts \
    tests/webgpu/backend_test.ts 2>&1 | tail -8
fi
DATA=(--data data/sample/fashion-mnist --train-limit 2048)
for backend in webgpu cpu; do
  has "$backend" || continue
  for m in beit splitmask dino; do
    echo "== $m on $backend, $STEPS steps"
    "$DENO" run "${FLAGS[@]}" -A train.ts pretrain --method "$m" --backend "$backend" "${DATA[@]}" \
      --steps "$STEPS" --log-every 1000 --out "$OUT/$m-$backend" 2>&1 | tail -1
  done
done
if has quick; then
  echo "== experiment-cls --quick on webgpu"
  TESSERA_BACKEND=webgpu "$DENO" run "${FLAGS[@]}" -A train.ts experiment-cls --quick \
    --out "$OUT/quick" 2>&1 | tail -3
  cat "$OUT/quick/results.md" 2>/dev/null
fi
