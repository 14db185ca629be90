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
if err=$("$SDZERO" config --optim.lrr=0.000123456789 2>&1); then fail "unknown key accepted"; fi
expect_contains "$err" "key 'optim.lrr'" "the key without its value"
expect_contains "$err" "did you mean --optim.lr?" "suggestion with a long value"
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

# With no config at all, train runs the built-in tiny model (prompt.format = auto picks the toy layout
# its char tokenizer can encode) and says what it chose.
out=$("$SDZERO" train --run.dir="$scratch/bare" --train.steps=1 2>&1) || fail "train with schema defaults failed: $out"
expect_contains "$out" "prompt format toy" "auto resolved for the char tokenizer"
expect_contains "$out" "step 1 |" "a bare train step"
[[ -d "$scratch/bare/final" ]] || fail "bare train saved no policy"

# `sdzero help config` tells the truth about the demo: the [demo] keys' schema defaults are the
# built-in demo.ini's values, so only data/model/method keys differ between the two.
demo_section() { awk '/^\[/{keep = ($0 == "[demo]")} keep && !/^#/' ; }
"$SDZERO" config | demo_section > "$scratch/schema-demo.ini"
"$SDZERO" config --config "$(dirname "$0")/../../configs/demo.ini" | demo_section > "$scratch/ini-demo.ini"
[[ -s "$scratch/schema-demo.ini" ]] || fail "no [demo] section in sdzero config"
diff "$scratch/schema-demo.ini" "$scratch/ini-demo.ini" >&2 || fail "[demo] defaults differ from configs/demo.ini"

# --help after a command prints that command's help; --config twice is an error, not a silent pick.
out=$("$SDZERO" train --run.seed=3 --help) || fail "train --help failed"
expect_contains "$out" "usage: [mpirun -np N] sdzero train" "train --help"
if err=$("$SDZERO" config --config "$scratch/a.ini" --config "$scratch/a.ini" 2>&1); then fail "--config twice accepted"; fi
expect_contains "$err" "--config given twice" "--config twice"
# "--key=" sets an empty string.
out=$("$SDZERO" config --prompt.system=)
grep -q '^system = ""$' <<< "$out" || fail "--prompt.system= did not set the empty string: $(grep '^system' <<< "$out")"

# Numeric flags are checked (finite, in range, whole) and named; nothing is written on a bad one.
if err=$("$SDZERO" mpi-check --mb nan 2>&1); then fail "--mb nan accepted"; fi
expect_contains "$err" "--mb: not a finite number" "mpi-check --mb nan"
if err=$("$SDZERO" generate --model "$scratch/bare/final" --prompt 12 --top-p 2 2>&1); then fail "--top-p 2 accepted"; fi
expect_contains "$err" "--top-p: 2 is out of range" "generate --top-p"
if err=$("$SDZERO" generate --model "$scratch/bare/final" --prompt 12 --threads 0 2>&1); then fail "--threads 0 accepted"; fi
expect_contains "$err" "--threads" "generate --threads 0"
[[ "$err" != *"c10"* && "$err" != *"frame #"* ]] || fail "a raw libtorch error: $err"
if err=$("$SDZERO" make-data --out "$scratch/md" --tasks div,foo 2>&1); then fail "an unknown task accepted"; fi
expect_contains "$err" "foo" "make-data names the task"
[[ ! -e "$scratch/md/div.q1.jsonl" ]] || fail "make-data wrote files before failing"
if err=$("$SDZERO" config --config "$scratch" 2>&1); then fail "a directory accepted as --config"; fi
expect_contains "$err" "is a directory" "--config DIR"
# The demo checks its own keys before the first minute of work.
if err=$("$SDZERO" demo --run.dir="$scratch/demo-bad" --demo.methods=rft,foo 2>&1); then fail "demo.methods=foo accepted"; fi
expect_contains "$err" "unknown method \"foo\"" "demo.methods"
if err=$("$SDZERO" demo --run.dir="$scratch/demo-bad" --demo.lr_grid=1e-4,abc 2>&1); then fail "lr_grid=abc accepted"; fi
expect_contains "$err" "demo.lr_grid" "demo.lr_grid"
if err=$("$SDZERO" demo --run.dir="$scratch/demo-bad" --demo.localization_overrides=--bogus.key=1 2>&1); then
  fail "a bad localization override accepted"
fi
expect_contains "$err" "bogus.key" "demo.localization_overrides"
# A fresh train into a directory holding a run is refused (tests/e2e/train_resume.sh: config.ini kept).
if err=$("$SDZERO" train --run.dir="$scratch/bare" --train.steps=1 2>&1); then fail "train over an earlier run accepted"; fi
expect_contains "$err" "holds an earlier run" "fresh train over a run"
# --resume is --ckpt.resume: both at once is refused by name, whatever their order.
for order in "--resume=auto --ckpt.resume=auto" "--ckpt.resume=x.h5 --resume auto"; do
  # shellcheck disable=SC2086
  if err=$("$SDZERO" train --run.dir="$scratch/twice" $order 2>&1); then fail "--resume with --ckpt.resume accepted ($order)"; fi
  expect_contains "$err" "--resume and --ckpt.resume" "resume given twice ($order)"
done
[[ ! -e "$scratch/twice" ]] || fail "the refused train wrote its run directory"
