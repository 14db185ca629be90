#!/usr/bin/env bash
# The GPU check (issue 10), run on a lent GPU machine in one call:
#   device run: bash tools/device/check.sh   (carry: .deps; prepare it here with tools/device/fetch-deps.sh)
# 1. configures and builds the CUDA + NCCL variant against the machine's pip PyTorch,
# 2. runs the GPU tests (model numerics bf16/fp32 vs the CPU, gradients, checkpointing, the device
#    sampler, NCCL broadcast/allreduce against MPI) and a few SD-Zero steps on the GPU with a
#    checkpoint and a resume,
# 3. compares our logits with Hugging Face transformers' on small random Qwen3 and Olmo-3 models that
#    our own `sdzero export` wrote (where transformers is installed),
# 4. runs `sdzero bench` on the GPU (Qwen3-0.6B shape in bf16: learner MFU, decode tokens/s),
# and prints a short table last. Logs go to /tmp/sdz-check; under `device` they come back as
# $OUT/logs.tgz with $OUT/summary.txt.
set -uo pipefail
# CHECK_PARTS=bench: build the CLI only and run the bench and the transformers baseline (a quick rerun).
# CHECK_PARTS=kernels: the CLI and tests/gpu, their tests, then the bench (after a kernel change).
# CHECK_PARTS=tests: tests/gpu alone (the shortest check of a change to the GPU code or its tests).
parts=${CHECK_PARTS:-all}
[[ $parts == all || $parts == bench || $parts == kernels || $parts == tests ]] ||
  { echo "CHECK_PARTS must be all, bench, kernels or tests" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=/tmp/sdz-check
rm -rf "$out"; mkdir -p "$out"
pack() {
  [[ -n "${OUT:-}" ]] || return 0
  [[ -f "$out/trace_train_step.json" ]] && gzip -f "$out/trace_train_step.json" && mv "$out/trace_train_step.json.gz" "$OUT"/
  tar czf "$OUT/logs.tgz" -C /tmp sdz-check && cp "$out"/summary.txt "$out"/*.json "$OUT"/ 2>/dev/null; true
}
trap pack EXIT
jobs=$(nproc)
t_start=$(date +%s)
declare -a rows
row() { rows+=("$(printf '%-34s %s' "$1" "$2")"); echo "== $1: $2"; }
elapsed() { echo $(( $(date +%s) - t_start )); }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
gpu=$(head -1 "$out/gpu.txt" | cut -d, -f1)
ngpu=$(nvidia-smi -L | wc -l)
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'

# ---- 1. dependencies the image lacks, unpacked into a private prefix (never into /)
deps=/tmp/sdzdeps
if [[ -d .deps/debs ]]; then
  for f in .deps/debs/*.deb; do dpkg -x "$f" "$deps"; done
else
  echo "no .deps/debs: run tools/device/fetch-deps.sh where apt works and carry .deps" >&2
fi
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
nccl_home=$(python3 -c 'import nvidia.nccl as n; print(list(n.__path__)[0])' 2>/dev/null || true)
export NCCL_HOME=$nccl_home
[[ -n "$nccl_home" ]] && export LD_LIBRARY_PATH=$nccl_home/lib:${LD_LIBRARY_PATH:-}
# The pip wheel ships libnccl.so.2 only; the linker wants a plain name next to the header.
if [[ -n "$nccl_home" && ! -e "$nccl_home/lib/libnccl.so" ]]; then ln -sf libnccl.so.2 "$nccl_home/lib/libnccl.so"; fi
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
t0=$(date +%s)
cmake -S . -B build-gpu "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DSDZ_ENABLE_CUDA=ON -DSDZ_ENABLE_NCCL=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix" -DCMAKE_CUDA_ARCHITECTURES=90 -DTORCH_CUDA_ARCH_LIST=9.0 \
  -DBoost_DIR="$deps/usr/lib/x86_64-linux-gnu/cmake/Boost-1.74.0" -DBoost_USE_STATIC_LIBS=ON \
  -DSDZ_PCRE2_INCLUDE_DIR="$deps/usr/include" > "$out/configure.log" 2>&1
rc=$?
grep -E "^-- sdzero" "$out/configure.log"
if [[ $rc -ne 0 ]]; then tail -40 "$out/configure.log"; row configure "FAILED (configure.log)"; printf '%s\n' "${rows[@]}" | tee "$out/summary.txt"; exit 1; fi
keep=(); [[ ${#gen[@]} -gt 0 ]] && keep=(-- -k 0)  # report every compile error in one run
targets=(sdzero test_gpu gpu_mpi_nccl); [[ $parts == bench ]] && targets=(sdzero); [[ $parts == kernels ]] && targets=(sdzero test_gpu)
[[ $parts == tests ]] && targets=(test_gpu)
cmake --build build-gpu -j "$jobs" --target "${targets[@]}" "${keep[@]}" > "$out/build.log" 2>&1
rc=$?
build_s=$(( $(date +%s) - t0 ))
sdz=build-gpu/sdzero
# With -k 0 everything that compiles is built: the GPU tests still run when only the CLI failed.
if [[ $rc -ne 0 ]]; then
  grep -E "error:" -A3 "$out/build.log" | head -80
  row "build (configure+compile, -j$jobs)" "FAILED after ${build_s} s: $(grep -c 'error:' "$out/build.log") errors; built: $(ls build-gpu/sdzero build-gpu/tests/test_gpu build-gpu/tests/gpu_mpi_nccl 2>/dev/null | xargs -n1 basename 2>/dev/null | tr '\n' ' ')"
else
  row "build (configure+compile, -j$jobs)" "${build_s} s"
fi

# ---- 2. GPU tests
if [[ $parts != bench ]]; then
build-gpu/tests/test_gpu --gtest_color=no 2>&1 | tee "$out/test_gpu.log" | grep -E "^\[gpu\]|OK \]|FAILED|PASSED|error" 
row "test_gpu" "$(grep -E '^\[  (PASSED|FAILED)' "$out/test_gpu.log" | tr '\n' ' ')"
fi
if [[ $parts == all ]]; then
mpiexec -n 1 build-gpu/tests/gpu_mpi_nccl --gtest_color=no 2>&1 | tee "$out/nccl1.log" | grep -E "^\[gpu\]|FAILED|PASSED"
row "nccl (1 rank)" "$(grep -cE '^\[       OK' "$out/nccl1.log") ok, $(grep -cE '^\[  FAILED  \] [A-Z]' "$out/nccl1.log") failed"
if [[ $ngpu -gt 1 ]]; then
  mpiexec -n "$ngpu" build-gpu/tests/gpu_mpi_nccl --gtest_color=no 2>&1 | tee "$out/nccl.log" | grep -E "^\[gpu\]|FAILED|PASSED"
  row "nccl ($ngpu ranks)" "$(grep -E '^\[gpu\] weight sync' "$out/nccl.log")"
else
  row "nccl (several ranks)" "not run: one GPU (NCCL needs a GPU per rank)"
fi

# A few SD-Zero steps (phase 2, top-k distillation from the frozen reviser) on the GPU in bf16,
# checkpointed after step 2 and resumed to step 4.
cfg=configs/tiny.ini
common=(--config $cfg --method.name=sdzero --dist.device=cuda --model.dtype=bf16 --model.hidden_size=256
        --model.intermediate_size=768 --model.num_layers=4 --ckpt.every_steps=2)
run_dir=/tmp/sdz-gpu-run
rm -rf $run_dir
$sdz train "${common[@]}" --train.steps=2 --run.dir=$run_dir > "$out/train_a.log" 2>&1 &&
  $sdz train "${common[@]}" --train.steps=4 --run.dir=$run_dir --resume auto > "$out/train_b.log" 2>&1
rc=$?
tail -3 "$out/train_b.log"
if [[ $rc -eq 0 ]] && grep -q "resume: continuing after step 2" "$out/train_b.log" && [[ $(wc -l < $run_dir/metrics.jsonl) -ge 4 ]]; then
  row "sdzero train on GPU (4 steps)" "ok, resumed at 2; $(tail -1 $run_dir/metrics.jsonl | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print("loss %.4f reward %.3f" % (r["loss"], r.get("reward_mean", float("nan"))))')"
else
  tail -20 "$out/train_a.log" "$out/train_b.log"; row "sdzero train on GPU" "FAILED"
fi

# ---- 3. transformers against our export (our logits on the CPU in fp32)
if python3 -c 'import transformers' 2>/dev/null; then
  for fam in qwen3 olmo3; do
    extra=(); [[ $fam == olmo3 ]] && extra=(--model.sliding_window=8 --model.tie_embeddings=false)
    d=/tmp/sdz-hf-$fam; rm -rf $d $d-x
    $sdz train --config $cfg --method.name=rft --model.family=$fam "${extra[@]}" --train.steps=1 \
      --ckpt.every_steps=1 --dist.device=cpu --run.dir=$d > "$out/hf_$fam.log" 2>&1 &&
      $sdz export --checkpoint $d --out $d-x >> "$out/hf_$fam.log" 2>&1 &&
      $sdz generate --model $d-x --prompt-ids 1,5,9,3,7,2,11,4,6,8,10,12,3,5,7,9,2,4 --logits-out $d.json >> "$out/hf_$fam.log" 2>&1
    if [[ $? -eq 0 ]]; then
      r=$(python3 tools/device/hf_compare.py $d-x $d.json 1e-4 2>>"$out/hf_$fam.log")
      row "transformers vs ours ($fam)" "$r"
    else
      tail -5 "$out/hf_$fam.log"; row "transformers vs ours ($fam)" "FAILED before the comparison"
    fi
  done
else
  row "transformers comparison" "not run: transformers not installed"
fi

fi  # CHECK_PARTS
# ---- 4. bench on the GPU
if [[ $parts != tests ]]; then
$sdz bench --device cuda --dtype bf16 --threads 8 --shape qwen3-0.6b --profile "$out/trace_train_step.json" \
  --out "$out/bench_qwen3_0.6b_bf16.json" > "$out/bench.log" 2>&1
# (process substitution, not a pipe: rows added in a pipe's subshell never reached the summary)
while IFS='|' read -r k v; do row "$k" "$v"; done < <(python3 - "$out/bench_qwen3_0.6b_bf16.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); s = j["shapes"]["qwen3-0.6b"]
peak = j["peak_gflops_bf16"] / 1e3
print(f"bf16 matmul peak (8192^3, measured)|{peak:.0f} TFLOP/s")
print(f"train step MFU (qwen3-0.6b bf16, {s['train_batch']})|{s['train_mfu']:.3f} of measured peak; {s['train_mfu']*peak/989:.3f} of 989 TFLOP/s; {s['train_tokens_per_s']:.0f} tok/s, peak mem {s['train_peak_bytes']/2**30:.1f} GiB")
if "train_accum2_mfu" in s:
    print(f"train step, 2 micro-batches accumulated|{s['train_accum2_step_s']:.3f} s, MFU {s['train_accum2_mfu']:.3f} of measured peak; {s['train_accum2_mfu']*peak/989:.3f} of 989 TFLOP/s")
print(f"train step parts (s)|forward {s['train_part_forward_s']:.3f}, forward+backward {s['train_part_forward_backward_s']:.3f}, AdamW {s['train_part_optimizer_s']:.3f}, lm_head+loss fwd+bwd {s['train_part_lm_head_loss_s']:.3f}; whole step {s['train_step_s']:.3f}")
if "train_profile_error" in s:
    print(f"profiled step|FAILED: {s['train_profile_error'][:150]}")
if "train_step_unfused_norm_s" in s:
    print(f"fused RMSNorm (torch's kernel)|step {s['train_step_s']:.3f} s vs {s['train_step_unfused_norm_s']:.3f} s written out ({s['train_step_unfused_norm_s']/s['train_step_s']:.2f}x)")
if "train_step_unfused_kernels_s" in s:
    print(f"fused q/k norm+RoPE, SwiGLU kernels|step {s['train_step_s']:.3f} s vs {s['train_step_unfused_kernels_s']:.3f} s with torch's ops ({s['train_step_unfused_kernels_s']/s['train_step_s']:.2f}x)")
if "train_step_fp32_lm_head_s" in s:
    hp = f"; head alone {s['train_part_lm_head_loss_s']:.4f} vs {s['train_part_lm_head_loss_fp32_s']:.4f} s" if "train_part_lm_head_loss_fp32_s" in s else ""
    print(f"bf16 lm_head GEMMs (fp32 out)|step {s['train_step_s']:.3f} s vs {s['train_step_fp32_lm_head_s']:.3f} s with TF32 ({s['train_step_fp32_lm_head_s']/s['train_step_s']:.2f}x){hp}")
print(f"lm_head+loss by chunk rows|{s['train_lm_head_default_rows']} (default): {s['train_part_lm_head_loss_s']:.4f} s, 1024: {s['train_part_lm_head_loss_rows1024_s']:.4f} s, 4096: {s['train_part_lm_head_loss_rows4096_s']:.4f} s")
if "train_part_lm_head_loss_many_passes_s" in s:
    print(f"lm_head+loss few vs many passes|{s['train_part_lm_head_loss_s']:.4f} s vs {s['train_part_lm_head_loss_many_passes_s']:.4f} s (default rows)")
if "train_part_optimizer_torch_loop_s" in s:
    fe = f", list ops {s['train_part_optimizer_foreach_s']:.4f} s" if "train_part_optimizer_foreach_s" in s else ""
    print(f"AdamW + clip: default vs torch loop|{s['train_part_optimizer_s']:.4f} s (fused kernel on GPU){fe}, torch's loop {s['train_part_optimizer_torch_loop_s']:.4f} s")
p = s.get("train_profile", {})
if "gpu_busy_s" in p:
    cls = ", ".join(f"{k} {v['share']*100:.0f}% ({v['launches']})" for k, v in sorted(p["classes"].items(), key=lambda kv: -kv[1]["s"]))
    print(f"profiled step: GPU busy / wall|{p['gpu_busy_s']:.3f} / {p['step_wall_s']:.3f} s ({p['gpu_busy_frac']*100:.0f}%), {p['kernel_launches']} kernels")
    print(f"profiled step: kernel classes|{cls}")
    for r in p["top"][:6]:
        print(f"  kernel {r['name'][:60]}|{r['s']*1e3:.1f} ms in {r['count']}")
print(f"decode tokens/s (b1 / b64)|{s['decode_b1_tokens_per_s']:.0f} / {s['decode_b64_tokens_per_s']:.0f}")
print(f"prefill / score tokens/s|{s['prefill_tokens_per_s']:.0f} / {s['score_top64_tokens_per_s']:.0f}")
PY
)
[[ -s "$out/bench_qwen3_0.6b_bf16.json" ]] || { tail -20 "$out/bench.log"; row bench FAILED; }
# The eager-PyTorch baseline on the same shape, batch, peak and FLOP count: transformers' Qwen3.
if [[ -s "$out/bench_qwen3_0.6b_bf16.json" ]] && python3 -c 'import transformers' 2>/dev/null; then
  if python3 tools/device/hf_train_ref.py "$out/bench_qwen3_0.6b_bf16.json" "$out/hf_train_ref.json" > "$out/hf_train_ref.log" 2>&1; then
    row "transformers train step (same shape)" "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%.3f s, %.0f tok/s, MFU %.3f of measured peak, peak mem %.1f GiB" % (r["step_s"], r["tokens_per_s"], r["mfu"], r["peak_mem_gib"]))' "$out/hf_train_ref.json")"
  else
    tail -5 "$out/hf_train_ref.log"; row "transformers train step" FAILED
  fi
fi

fi  # CHECK_PARTS=tests
# ---- 5. the memory plan against measured peaks (when the plan command is built)
if [[ $parts == all ]]; then
if $sdz help 2>/dev/null | grep -q "^ *plan"; then
  # The plan against the GPU's own peaks (caching allocator) for one learner step and one generate.
  $sdz plan --memory --shape qwen3-0.6b --dist.device=cuda --model.dtype=bf16 --model.activation_checkpointing=true \
    --learner-sequences 2 --measure > "$out/plan.log" 2>&1 &&
    row "plan --memory --measure (0.6b)" "$(grep -E '^ +(learner|rollout) +[0-9]' "$out/plan.log" | awk '{printf "%s plan %s GiB, peak %s GiB (%s); ", $1, $2, $3, $4}')" ||
    { tail -10 "$out/plan.log"; row "plan --memory --measure" FAILED; }
fi

fi  # CHECK_PARTS
echo
echo "==== sdzero GPU check on $gpu ($ngpu GPU), $(elapsed) s"
printf '%s\n' "${rows[@]}" | tee "$out/summary.txt"
