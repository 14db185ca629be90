#!/usr/bin/env bash
# sdz-labels: e2e
# The CLI skeleton: help, version, config resolution and its errors, exit codes.
source "$(dirname "$0")/_lib.sh"

out=$("$SDZERO" help)
expect_contains "$out" "usage: sdzero <command>" "help"
expect_contains "$out" "config" "help lists commands"

out=$("$SDZERO" help config)
expect_contains "$out" "[run]" "help config"
expect_contains "$out" "seed = 1234" "help config shows defaults"

out=$("$SDZERO" version)
expect_contains "$out" "libtorch 1." "version"
expect_contains "$out" "MPI Open MPI" "version"
expect_contains "$out" "HDF5 1." "version"

# A good config with overrides resolves and round-trips.
cat > "$scratch/a.ini" <<'INI'
[run]
name = e2e
seed = 7
INI
out=$("$SDZERO" config --config "$scratch/a.ini" --run.threads=3)
expect_contains "$out" "seed = 7" "config from file"
expect_contains "$out" "threads = 3" "config override"
"$SDZERO" config --config "$scratch/a.ini" --out "$scratch/resolved.ini"
"$SDZERO" config --config "$scratch/resolved.ini" > "$scratch/again.ini"
grep -q "name = e2e" "$scratch/again.ini" || fail "resolved config does not read back"

# Errors: non-zero exit, file:line and key named, nothing written over an existing output.
printf '[run]\nseed = -3\n' > "$scratch/bad.ini"
echo "keep me" > "$scratch/out.ini"
if err=$("$SDZERO" config --config "$scratch/bad.ini" --out "$scratch/out.ini" 2>&1); then fail "bad config accepted"; fi
expect_contains "$err" "bad.ini:2" "error names file:line"
expect_contains "$err" "run.seed" "error names key"
[[ "$(cat "$scratch/out.ini")" == "keep me" ]] || fail "a failed run overwrote its output"

if err=$("$SDZERO" config --run.sed=3 2>&1); then fail "unknown key accepted"; fi
expect_contains "$err" "did you mean --run.seed" "suggestion"
if err=$("$SDZERO" config --config "$scratch/missing.ini" 2>&1); then fail "missing file accepted"; fi
expect_contains "$err" "missing.ini" "missing file named"
if err=$("$SDZERO" config --bogus 2>&1); then fail "unknown flag accepted"; fi
expect_contains "$err" "unknown option --bogus" "unknown flag"

set +e
"$SDZERO" no-such-command >/dev/null 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "unknown command should exit 2, got $rc"
echo "cli: ok"
