#!/usr/bin/env bash
# The two README commands. Both install what is missing, configure and build (Release, in build/).
#   tools/quickstart.sh main [args...]  then run the main job: `sdzero` on the built-in default
#   tools/quickstart.sh test            then fetch the reference tokenizer files and run all of ctest
# Environment: SDZ_BUILD_DIR (default build), SDZ_JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
[[ "$mode" == "main" || "$mode" == "test" ]] || { echo "usage: tools/quickstart.sh main|test" >&2; exit 2; }
shift

build="${SDZ_BUILD_DIR:-build}"
jobs="${SDZ_JOBS:-$(nproc)}"
# The test suite also starts a real one-node Slurm cluster: its daemons come with --slurm.
if [[ "$mode" == "test" ]]; then tools/install-deps.sh --slurm; else tools/install-deps.sh; fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs"

if [[ "$mode" == "main" ]]; then
  exec "$build/sdzero" "$@"
fi
if [[ -x tools/fetch-tokenizers.sh ]]; then
  tools/fetch-tokenizers.sh
fi
exec ctest --test-dir "$build" --output-on-failure -j "$jobs"
