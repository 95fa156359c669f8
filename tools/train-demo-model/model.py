"""A small Llama-style causal language model (RMSNorm, RoPE, SwiGLU, grouped-query attention).

One forward serves both training (no cache) and the ONNX export (optimum-style KV cache:
`past_key_values.N.key|value` in, `present.N.key|value` out, shape [batch, kv_heads, length,
head_dim]). Grouped-query attention widens K/V with expand + reshape: torch 1.13 exports
`repeat_interleave` wrongly when the axes are dynamic. The causal mask is built from the past
length so that one graph handles the first step (empty past) and every later step; padding comes
from `attention_mask` over past + current positions, positions from `position_ids`.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int = 4096
    hidden_size: int = 256
    num_hidden_layers: int = 6
    num_attention_heads: int = 8
    num_key_value_heads: int = 2
    intermediate_size: int = 688
    max_position_embeddings: int = 512
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(variance + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.q_proj = nn.Linear(config.hidden_size, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(config.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(config.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, config.hidden_size, bias=False)

    def widen(self, x):
        # [B, kv, T, D] -> [B, heads, T, D] via expand + reshape (export-safe; see file header).
        batch, _, length, dim = x.shape
        groups = self.heads // self.kv_heads
        return x[:, :, None, :, :].expand(batch, self.kv_heads, groups, length, dim).reshape(
            batch, self.heads, length, dim)

    def forward(self, x, cos, sin, bias, past_key=None, past_value=None):
        batch, length, _ = x.shape
        q = self.q_proj(x).view(batch, length, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_key is not None:
            k = torch.cat([past_key, k], dim=2)
            v = torch.cat([past_value, v], dim=2)
        present = (k, v)
        scores = torch.matmul(q, self.widen(k).transpose(2, 3)) / math.sqrt(self.head_dim)
        scores = scores + bias
        weights = torch.softmax(scores, dim=-1)
        out = torch.matmul(weights, self.widen(v))
        out = out.transpose(1, 2).reshape(batch, length, self.heads * self.head_dim)
        return self.o_proj(out), present


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.self_attn = Attention(config)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)

    def forward(self, x, cos, sin, bias, past_key=None, past_value=None):
        attended, present = self.self_attn(self.input_layernorm(x), cos, sin, bias, past_key, past_value)
        x = x + attended
        h = self.post_attention_layernorm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, present


class DemoModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([Block(config) for _ in range(config.num_hidden_layers)])
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        head_dim = config.hidden_size // config.num_attention_heads
        inv_freq = 1.0 / (config.rope_theta ** (torch.arange(0, head_dim, 2).float() / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.apply(self._init)
        for name, parameter in self.named_parameters():
            if name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                nn.init.normal_(parameter, std=0.02 / math.sqrt(2 * config.num_hidden_layers))

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)

    def parameter_count(self):
        return sum(parameter.numel() for parameter in self.parameters())

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        """past: list of (key, value) per layer or None. Returns (logits, presents)."""
        batch, length = input_ids.shape
        past_length = past[0][0].shape[2] if past is not None else 0
        if position_ids is None:
            position_ids = torch.arange(length).unsqueeze(0).expand(batch, length) + past_length
        freqs = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq
        angles = torch.cat([freqs, freqs], dim=-1)
        cos = angles.cos().unsqueeze(1)
        sin = angles.sin().unsqueeze(1)
        total = past_length + length
        query_positions = torch.arange(length).unsqueeze(1) + past_length
        key_positions = torch.arange(total).unsqueeze(0)
        allowed = (key_positions <= query_positions).unsqueeze(0).unsqueeze(0)
        if attention_mask is not None:
            allowed = allowed & (attention_mask[:, None, None, :] > 0)
        bias = torch.zeros(allowed.shape, dtype=torch.float32).masked_fill(~allowed, -1e9)
        x = self.embed_tokens(input_ids)
        presents = []
        for index, layer in enumerate(self.layers):
            past_key, past_value = past[index] if past is not None else (None, None)
            x, present = layer(x, cos, sin, bias, past_key, past_value)
            presents.append(present)
        logits = F.linear(self.norm(x), self.embed_tokens.weight)
        return logits, presents


class OnnxWrapper(nn.Module):
    """Flat-argument forward with the optimum names, for torch.onnx.export."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        flat = []
        for key, value in presents:
            flat.extend([key, value])
        return (logits, *flat)


def export_onnx(model, path, opset=17):
    config = model.config
    model.eval()
    wrapper = OnnxWrapper(model)
    layers = config.num_hidden_layers
    head_dim = config.hidden_size // config.num_attention_heads
    batch, length, past_length = 2, 3, 4
    input_ids = torch.randint(0, config.vocab_size, (batch, length))
    attention_mask = torch.ones(batch, past_length + length, dtype=torch.int64)
    position_ids = torch.arange(past_length, past_length + length).unsqueeze(0).expand(batch, length).contiguous()
    past = []
    input_names = ["input_ids", "attention_mask", "position_ids"]
    output_names = ["logits"]
    dynamic_axes = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for index in range(layers):
        for kind in ("key", "value"):
            past.append(torch.randn(batch, config.num_key_value_heads, past_length, head_dim))
            name = f"past_key_values.{index}.{kind}"
            input_names.append(name)
            dynamic_axes[name] = {0: "batch_size", 2: "past_sequence_length"}
            out_name = f"present.{index}.{kind}"
            output_names.append(out_name)
            dynamic_axes[out_name] = {0: "batch_size", 2: "total_sequence_length"}
    with torch.no_grad():
        torch.onnx.export(
            wrapper, (input_ids, attention_mask, position_ids, *past), path,
            input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
            opset_version=opset,
            # Folding would store a transposed copy of the tied embedding (+4 MB): keep one copy.
            do_constant_folding=False,
        )
