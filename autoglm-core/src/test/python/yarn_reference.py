#!/usr/bin/env python3
"""Reference YaRN rotary frequencies for RopeYarnTest, in numpy float64, written from the two sources separately:

- "hf": transformers modeling_rope_utils.py _compute_yarn_parameters (inv_freq and attention_factor), reading the
  config's rope_scaling / rope_parameters as transformers does;
- "gguf": ggml's rope_yarn (ggml-cpu ops.cpp: rope_yarn_ramp, ggml_rope_yarn_corr_dims), which returns the angle of
  each pair at a position and the cos/sin scale mscale; the angle at position 1 is the pair's frequency.

Input (stdin): {"cases": [...]}; output (stdout): {"results": [{"inv_freq": [...], "attention_factor": x}, ...]}.
"""
import json
import math
import sys

import numpy as np


def hf(config):
    rs = config.get("rope_scaling") or config.get("rope_parameters")
    base = rs.get("rope_theta", config.get("rope_theta", 10000.0)) if "rope_parameters" in config else config.get("rope_theta", 10000.0)
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    dim = int(head_dim * config.get("partial_rotary_factor", 1.0))
    factor = rs["factor"]
    original = rs.get("original_max_position_embeddings") or config["max_position_embeddings"]

    def get_mscale(scale, mscale=1):
        if scale <= 1:
            return 1.0
        return 0.1 * mscale * math.log(scale) + 1.0

    attention_factor = rs.get("attention_factor")
    if attention_factor is None:
        mscale, mscale_all_dim = rs.get("mscale"), rs.get("mscale_all_dim")
        if mscale and mscale_all_dim:
            attention_factor = get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim)
        else:
            attention_factor = get_mscale(factor)
    beta_fast = rs.get("beta_fast") or 32
    beta_slow = rs.get("beta_slow") or 1
    truncate = rs.get("truncate", True)

    def correction_dim(rot):
        return (dim * math.log(original / (rot * 2 * math.pi))) / (2 * math.log(base))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - low) / (high - low), 0, 1)
    pos_freqs = base ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    extrapolation = 1.0 / pos_freqs
    interpolation = 1.0 / (factor * pos_freqs)
    extrapolation_factor = 1 - ramp
    inv_freq = interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor
    return {"inv_freq": inv_freq.tolist(), "attention_factor": attention_factor}


def gguf(c):
    n_dims, base = c["n_dims"], c["freq_base"]
    freq_scale = 1.0 / c["factor"]
    ext_factor, attn_factor = c.get("ext_factor", 1.0), c.get("attn_factor", 1.0)
    n_ctx_orig = c["n_ctx_orig"]
    beta_fast, beta_slow = c.get("beta_fast", 32.0), c.get("beta_slow", 1.0)

    def corr_dim(n_rot):
        return n_dims * math.log(n_ctx_orig / (n_rot * 2 * math.pi)) / (2 * math.log(base))

    start, end = math.floor(corr_dim(beta_fast)), math.ceil(corr_dim(beta_slow))
    corr = (max(0, start), min(n_dims - 1, end))
    theta_scale = base ** (-2.0 / n_dims)
    out = []
    mscale_out = attn_factor
    theta_extrap = 1.0  # position 1
    for i0 in range(0, n_dims, 2):
        theta_interp = freq_scale * theta_extrap
        theta = theta_interp
        mscale = attn_factor
        if ext_factor != 0.0:
            y = (i0 / 2 - corr[0]) / max(0.001, corr[1] - corr[0])
            ramp_mix = (1 - min(1.0, max(0.0, y))) * ext_factor
            theta = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix
            mscale *= 1.0 + 0.1 * math.log(1.0 / freq_scale)
        out.append(theta)
        mscale_out = mscale
        theta_extrap *= theta_scale
    return {"inv_freq": out, "attention_factor": mscale_out}


def main():
    cases = json.load(sys.stdin)["cases"]
    results = [hf(c["config"]) if c["kind"] == "hf" else gguf(c) for c in cases]
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
