#!/usr/bin/env python3
"""Loads a model directory written by `sdzero export` with Hugging Face transformers and compares
transformers' fp32 logits with sdzero's (`sdzero generate --logits-out`) on the same ids.
usage: hf_compare.py MODEL_DIR SDZERO_LOGITS_JSON [TOLERANCE (1e-3)]
Prints one line: architecture, max |difference|, and OK or FAIL; exits 1 on FAIL."""
import json
import sys

import torch
from transformers import AutoConfig, AutoModelForCausalLM


def main():
    model_dir, ours_path = sys.argv[1], sys.argv[2]
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-3
    ours = json.load(open(ours_path))
    cfg = AutoConfig.from_pretrained(model_dir)
    # eager attention: the reference implementation in transformers, the one sdzero follows.
    m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    m.eval()
    ids = torch.tensor([ours["ids"]], dtype=torch.long)
    with torch.no_grad():
        ref = m(ids).logits[0].float()
    mine = torch.tensor(ours["logits"], dtype=torch.float32)
    if ref.shape != mine.shape:
        print(f"{cfg.architectures[0]}: shape {tuple(mine.shape)} vs transformers {tuple(ref.shape)} FAIL")
        return 1
    diff = (ref - mine).abs().max().item()
    ok = diff <= tol
    print(f"{cfg.architectures[0]} ({cfg.model_type}, {sum(p.numel() for p in m.parameters())} params, "
          f"{ids.shape[1]} tokens): max |logit difference| {diff:.3e} (tolerance {tol:g}) {'OK' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
