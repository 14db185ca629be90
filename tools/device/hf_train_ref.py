#!/usr/bin/env python3
"""The eager-PyTorch baseline for the learner MFU (issue 10): one training step of Hugging Face
transformers' Qwen3 on the shape `sdzero bench --shape qwen3-0.6b` trains (Qwen3-0.6B's config, tied
embeddings, 8 x 1024 tokens), fp32 master weights under bf16 autocast, SDPA attention, clip to 1.0 and
torch's fused AdamW. Same FLOP count and peak as our bench, so the two MFUs compare directly.

usage: hf_train_ref.py BENCH_JSON OUT_JSON   (BENCH_JSON: our bench's output, for the measured peak)
"""
import json
import sys
import time

import torch
from transformers import Qwen3Config, Qwen3ForCausalLM


def main():
    peak = json.load(open(sys.argv[1]))["peak_gflops_bf16"] * 1e9
    cfg = Qwen3Config(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
                      num_attention_heads=16, num_key_value_heads=8, head_dim=128, tie_word_embeddings=True,
                      rope_theta=1000000, rms_norm_eps=1e-6, max_position_embeddings=4096,
                      attn_implementation="sdpa")
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen3ForCausalLM(cfg)
    model.train()
    # Our bench steps algo::Optimizer (AdamW, clip 1.0); torch's fastest AdamW is the fused one.
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    B, T = 8, 1024
    ids = torch.randint(0, cfg.vocab_size, (B, T), device="cuda")

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(8):
        t = time.perf_counter()
        step()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    L, H, D = cfg.num_hidden_layers, cfg.num_attention_heads, cfg.head_dim
    P = sum(p.numel() for p in model.parameters())  # tied: the lm_head is the embedding, counted once
    attn = 4.0 * L * T * H * D  # per query over T keys; causal: half, as our bench counts on a GPU
    flops = 6.0 * P * B * T + 0.5 * 3.0 * B * attn * T
    out = {"what": "transformers Qwen3 (0.6B shape), autocast bf16, fp32 master, SDPA, fused AdamW, clip 1.0",
           "torch": torch.__version__, "params": P, "batch": f"{B}x{T}", "step_s": best,
           "tokens_per_s": B * T / best, "mfu": flops / best / peak,
           "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30}
    json.dump(out, open(sys.argv[2], "w"), indent=2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
