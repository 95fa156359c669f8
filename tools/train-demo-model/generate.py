"""Greedy and sampled decoding with the torch model (KV cache), and the golden decode cases.

The golden cases are what tests/unit/demo-model/golden.test.ts replays through onnxruntime-node:
the first 32 greedy tokens for raw and chat-formatted prompts, with the two largest logits at each
step so a test can tell a real mismatch from a near tie.
"""
import torch

GOLDEN_PROMPTS = [
    {"name": "raw-story", "text": "<s>Once upon a time"},
    {"name": "raw-novel", "text": "<s>It is a truth universally acknowledged"},
    {"name": "chat-fact", "text": "<s><|user|>When was Alder Ashgrove born?<|end|><|assistant|>"},
    {"name": "chat-system-json", "text": "<s><|system|>You are a helpful assistant.<|end|>"
                                          "<|user|>Give the record for Aldmere as JSON.<|end|><|assistant|>"},
]


@torch.no_grad()
def step_logits(model, ids, past):
    tokens = torch.tensor([ids], dtype=torch.int64)
    past_length = past[0][0].shape[2] if past is not None else 0
    mask = torch.ones(1, past_length + len(ids), dtype=torch.int64)
    positions = torch.arange(past_length, past_length + len(ids)).unsqueeze(0)
    logits, presents = model(tokens, mask, positions, past)
    return logits[0, -1], presents


@torch.no_grad()
def greedy(model, prompt_ids, count, stop_id=None):
    model.eval()
    out, tops = [], []
    logits, past = step_logits(model, prompt_ids, None)
    for _ in range(count):
        values, indices = torch.topk(logits, 2)
        token = int(indices[0])
        out.append(token)
        tops.append((float(values[0]), float(values[1])))
        if stop_id is not None and token == stop_id:
            break
        logits, past = step_logits(model, [token], past)
    return out, tops


@torch.no_grad()
def sample(model, prompt_ids, count, temperature, top_k, seed, stop_id=None):
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    out = []
    logits, past = step_logits(model, prompt_ids, None)
    for _ in range(count):
        values, indices = torch.topk(logits / temperature, top_k)
        probabilities = torch.softmax(values, dim=-1)
        token = int(indices[torch.multinomial(probabilities, 1, generator=generator)[0]])
        if stop_id is not None and token == stop_id:
            break
        out.append(token)
        logits, past = step_logits(model, [token], past)
    return out


def golden_cases(model, encoder, processor, count=32):
    cases = []
    for prompt in GOLDEN_PROMPTS:
        ids = encoder.encode(prompt["text"])
        tokens, tops = greedy(model, ids, count)
        cases.append({
            "name": prompt["name"], "text": prompt["text"], "prompt_ids": ids, "greedy_ids": tokens,
            "greedy_text": processor.decode(tokens),
            "top1": [round(top[0], 6) for top in tops], "top2": [round(top[1], 6) for top in tops],
        })
    return cases
