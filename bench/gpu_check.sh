#!/usr/bin/env bash
# Runs bench/gpu_check.ts with Deno 2.9.6: the deno on PATH, else ~/.deno/bin/deno, else
# `npx -y deno@2.9.6` (needs only Node.js and the npm registry). Usage, from the repo root:
#   bash bench/gpu_check.sh [--full]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
[[ -n "${XDG_RUNTIME_DIR:-}" ]] || { XDG_RUNTIME_DIR="$(mktemp -d)" && export XDG_RUNTIME_DIR; }
if command -v deno >/dev/null 2>&1; then
  DENO=(deno)
elif [[ -x "$HOME/.deno/bin/deno" ]]; then
  DENO=("$HOME/.deno/bin/deno")
elif command -v npx >/dev/null 2>&1; then
  DENO=(npx -y deno@2.9.6)
else
  cat >&2 <<'MSG'
gpu_check: Deno is not installed. Install Deno 2.9.6 by one of:
  npm install -g deno@2.9.6          (or: npx -y deno@2.9.6 run -A bench/gpu_check.ts)
  curl -fsSL https://deno.land/install.sh | sh -s v2.9.6
then run: deno run -A bench/gpu_check.ts
MSG
  exit 127
fi
exec "${DENO[@]}" run -A bench/gpu_check.ts "$@"
