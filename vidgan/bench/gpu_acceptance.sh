#!/usr/bin/env bash
# The GPU checks in one go, for a machine with a CUDA GPU: the CUDA tests, then the benchmarks whose
# tables docs/benchmarks.md holds for the GPU. Each step writes its output into OUTDIR and a failing
# step does not stop the later ones (the summary at the end says which failed).
#
#   bash vidgan/bench/gpu_acceptance.sh OUTDIR [PYTHON]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: vidgan/bench/gpu_acceptance.sh OUTDIR [PYTHON]}
py=${2:-python3}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
failed=()

step() {  # step NAME COMMAND...: run it, keep its output in OUTDIR/NAME.txt
  local name=$1; shift
  echo "== $name: $*"
  if ! "$@" >"$out/$name.txt" 2>&1; then failed+=("$name"); fi
  tail -n 25 "$out/$name.txt"
}

step doctor "$py" -m vidgan doctor
step gpu-tests "$py" -m pytest -q -m gpu tests
step kernels "$py" -m vidgan.bench.kernels --device cuda
step stylize "$py" -m vidgan.bench.stylize --device cuda --size 1920x1080 --frames 60
step bench "$py" -m vidgan bench --device cuda --size 1280x720 --size 1920x1080 --frames 60

if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}"
  exit 1
fi
echo "all GPU checks passed"
