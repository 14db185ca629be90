# Helpers sourced by the e2e scripts: fail with a message, expect output, a scratch directory.
set -euo pipefail
: "${SDZERO:?SDZERO must point to the sdzero binary (ctest sets it)}"
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_contains "haystack" "needle" "what"
expect_contains() { [[ "$1" == *"$2"* ]] || fail "$3: expected to find '$2' in: $1"; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
