#!/usr/bin/env bash
# Builds and runs the side-by-side benchmark (bench/README.md).
#   bash bench/run.sh           the full run: 3 reps, up to 19k clients (about 80 minutes)
#   bash bench/run.sh -smoke    everything small (CI)
# Any other benchrun flag may follow (bash bench/run.sh -h lists them).
# Writes bench/results/latest.{md,svg,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_CMDLINE="bash bench/run.sh${*:+ $*}"
mkdir -p bench/.bin
go build -o bench/.bin/benchrun ./bench/cmd/benchrun
exec bench/.bin/benchrun "$@"
