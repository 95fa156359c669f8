"""Trains Rein's demo model end to end: data → tokenizer → model → ONNX + tokenizer files + golden.

Run under Debian's Python (torch 1.13, sentencepiece, onnx):
  /usr/bin/python3 tools/train-demo-model/train.py --minutes 30
Reproducible: every random choice is seeded; `--minutes` measures the first steps and fixes the
step count from it (logged, and written to training.json); `--steps N` reruns exactly N steps.
Intermediate files go to tools/train-demo-model/work/ (ignored by git).
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from corpus import load_corpus  # noqa: E402
from model import DemoModel, ModelConfig, export_onnx  # noqa: E402
from tokenizer_build import (ChatEncoder, to_hugging_face, train_sentencepiece, write_json,  # noqa: E402
                             BOS, EOS_TURN)
from world import build_world, chat_examples, prose_examples, all_pairs  # noqa: E402
from generate import greedy, sample, golden_cases  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def log(message):
    print(time.strftime("%H:%M:%S"), message, flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=40.0, help="training wall-clock budget")
    parser.add_argument("--steps", type=int, default=0, help="exact step count (overrides --minutes)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; on a busy shared machine 2 spinning OpenMP threads ran 3x slower than 1")
    parser.add_argument("--vocab", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=2, help="rows of --seq tokens per step")
    parser.add_argument("--short-seq", type=int, default=256)
    parser.add_argument("--long-fraction", type=float, default=0.2)
    parser.add_argument("--hidden", type=int, default=192)
    parser.add_argument("--heads", type=int, default=6)
    parser.add_argument("--kv-heads", type=int, default=2)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--intermediate", type=int, default=512)
    parser.add_argument("--valid-windows", type=int, default=400, help="at most N validation windows")
    parser.add_argument("--fact-limit", type=int, default=0, help="check only N world-fact questions (0 = all)")
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--synthetic-fraction", type=float, default=0.5)
    parser.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "data", "corpus"))
    parser.add_argument("--work", default=os.path.join(HERE, "work"))
    parser.add_argument("--out", default=os.path.join(ROOT, "models", "rein-demo"))
    parser.add_argument("--golden", default=os.path.join(ROOT, "tests", "golden", "demo-model"))
    return parser.parse_args()


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def prepare_data(args):
    world = build_world(args.seed)
    corpus = load_corpus(args.corpus)
    train_docs, valid_docs = [], []
    for name, documents in corpus.items():
        cut = max(1, int(len(documents) * 0.05))
        train_docs.extend(documents[:-cut])
        valid_docs.extend(documents[-cut:])
    chats = chat_examples(world, 30000, args.seed + 1)
    prose = prose_examples(world, 4000, args.seed + 2)
    os.makedirs(args.work, exist_ok=True)
    sp_input = os.path.join(args.work, "sentencepiece-input.txt")
    with open(sp_input, "w", encoding="utf-8") as handle:
        for document in train_docs:
            handle.write(document + "\n")
        for messages in chats[:5000]:
            for message in messages:
                handle.write(message["content"] + "\n")
        for text in prose[:1000]:
            handle.write(text + "\n")
    return world, train_docs, valid_docs, chats, prose, sp_input


def tokenize_streams(encoder, processor, train_docs, valid_docs, chats, prose):
    bos = processor.piece_to_id(BOS)
    end = processor.piece_to_id(EOS_TURN)

    def document_stream(documents):
        ids = []
        for document in documents:
            ids.append(bos)
            ids.extend(processor.encode(document))
            ids.append(end)
        return np.array(ids, dtype=np.int64)

    general = document_stream(train_docs)
    valid = document_stream(valid_docs)
    synthetic = []
    order = list(range(len(chats) + len(prose)))
    random.Random(7).shuffle(order)
    for index in order:
        if index < len(chats):
            synthetic.extend(encoder.encode(encoder.render_chat(chats[index], add_generation_prompt=False)))
        else:
            synthetic.append(bos)
            synthetic.extend(processor.encode(prose[index - len(chats)]))
            synthetic.append(end)
    return general, valid, np.array(synthetic, dtype=np.int64)


def make_batch(rng, general, synthetic, batch, seq, fraction):
    rows = []
    for _ in range(batch):
        stream = synthetic if rng.random() < fraction else general
        start = rng.randrange(0, len(stream) - seq - 1)
        rows.append(stream[start:start + seq + 1])
    block = torch.from_numpy(np.stack(rows))
    return block[:, :-1], block[:, 1:]


@torch.no_grad()
def perplexity(model, stream, seq, limit_windows=400):
    model.eval()
    total, count = 0.0, 0
    for start in range(0, min(len(stream) - 1, limit_windows * seq), seq):
        chunk = torch.from_numpy(stream[start:start + seq + 1]).unsqueeze(0)
        if chunk.shape[1] < 2:
            break
        logits, _ = model(chunk[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits[0], chunk[0, 1:], reduction="sum")
        total += loss.item()
        count += chunk.shape[1] - 1
    model.train()
    return math.exp(total / count), count


def learning_rate(progress, step, peak, warmup=30):
    """Linear warm-up over `warmup` steps, then cosine decay to 10% of peak as progress goes 0 → 1."""
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def train(model, args, general, synthetic, log_every=25):
    """Trains for `--steps` steps, or until `--minutes` of wall-clock have passed (the schedule then
    follows elapsed time, so a busy shared machine shortens the run instead of overrunning it)."""
    rng = random.Random(args.seed + 3)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.95))
    budget = args.minutes * 60
    started = time.time()
    step = 0
    smoothed = None
    model.train()
    while True:
        elapsed = time.time() - started
        progress = step / args.steps if args.steps > 0 else elapsed / budget
        if progress >= 1.0:
            break
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(progress, step, args.lr)
        # Short windows most of the time (attention cost grows with the square of the length), full
        # 512-token windows for the last `--long-fraction` so positions up to 512 are trained too;
        # tokens per step stay the same.
        if progress >= 1.0 - args.long_fraction:
            length, rows = args.seq, args.batch
        else:
            length, rows = args.short_seq, args.batch * args.seq // args.short_seq
        inputs, targets = make_batch(rng, general, synthetic, rows, length, args.synthetic_fraction)
        logits, _ = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        smoothed = loss.item() if smoothed is None else 0.95 * smoothed + 0.05 * loss.item()
        step += 1
        if step % log_every == 0 or step == 1:
            elapsed = time.time() - started
            log(f"step {step} progress {progress:.3f} loss {loss.item():.3f} (smoothed {smoothed:.3f}) "
                f"lr {optimizer.param_groups[0]['lr']:.2e} {step * args.batch * args.seq / elapsed:.0f} tok/s "
                f"elapsed {elapsed / 60:.1f} min")
    return step, (time.time() - started) / 60


def fact_accuracy(model, encoder, processor, world, end_id, limit=0):
    """Greedy answers to each fact question seen in training; fraction containing the right value."""
    correct, total = 0, 0
    pairs = all_pairs(world)
    if limit:
        pairs = random.Random(5).sample(pairs, min(limit, len(pairs)))
    for question, answer in pairs:
        key = answer.rstrip(".").split(" ")[-1]
        prompt = encoder.encode(encoder.render_chat([{"role": "user", "content": question}], True))
        tokens, _ = greedy(model, prompt, 24, stop_id=end_id)
        text = processor.decode(tokens)
        total += 1
        correct += int(key in text)
    return correct / total, total


def write_model_files(model, processor, args, metrics):
    os.makedirs(args.out, exist_ok=True)
    # optimum's folder layout, which src/backends/onnx/load-model-folder.ts reads: onnx/model.onnx.
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    export_onnx(model, os.path.join(args.out, "onnx", "model.onnx"))
    tokenizer, tokenizer_config = to_hugging_face(processor)
    write_json(os.path.join(args.out, "tokenizer.json"), tokenizer)
    write_json(os.path.join(args.out, "tokenizer_config.json"), tokenizer_config)
    config = model.config
    write_json(os.path.join(args.out, "config.json"), {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "num_key_value_heads": config.num_key_value_heads,
        "head_dim": config.hidden_size // config.num_attention_heads,
        "max_position_embeddings": config.max_position_embeddings,
        "rope_theta": config.rope_theta,
        "rms_norm_eps": config.rms_norm_eps,
        "hidden_act": "silu",
        "tie_word_embeddings": True,
        "bos_token_id": processor.piece_to_id(BOS),
        "eos_token_id": processor.piece_to_id(EOS_TURN),
        "pad_token_id": processor.piece_to_id("<pad>"),
        "torch_dtype": "float32",
    })
    write_json(os.path.join(args.out, "training.json"), metrics)


def write_goldens(model, encoder, processor, args):
    os.makedirs(args.golden, exist_ok=True)
    write_json(os.path.join(args.golden, "greedy.json"), {
        "description": "First 32 greedy tokens computed by torch (tools/train-demo-model) for models/rein-demo; "
                       "top1/top2 are the two largest logits at each step.",
        "cases": golden_cases(model, encoder, processor),
    })
    strings = [
        "Hello, world!", "  leading spaces", "trailing spaces   ", "multiple   spaces\tand\ttabs\nnew\nlines",
        "def add(a, b):\n    return a + b  # sum", "const x = {\"key\": [1, 2, 3]};", "if (a && b || !c) { x++; }",
        "Punctuation: ... !? ;: -- (brackets) [square] {curly} <angle> @#$%^&*_+=|\\/~`",
        "It's a truth universally acknowledged, that a single man...", "Ünïcödé: café, naïve, Straße, Ægir",
        "日本語のテキスト、中文文本", "Привет, мир! Γειά σου κόσμε", "emoji: 😀🎉👍🏽 family 👨‍👩‍👧", "١٢٣ arabic digits",
        "Numbers 1234567890 and 3.14159 and 1,000,000", "Alder Ashgrove was born in 1850.", "",
        " ", "\u2581already metaspace", "<s> looks special but is text? <|user|> too",
    ]
    cases = []
    for text in strings:
        cases.append({"text": text, "ids": processor.encode(text),
                      "ids_with_specials": encoder.encode(text)})
    chat = encoder.render_chat([{"role": "system", "content": "You are a helpful assistant."},
                                {"role": "user", "content": "When was Alder Ashgrove born?"}], True)
    write_json(os.path.join(args.golden, "tokenizer.json"), {
        "description": "SentencePiece ids (sentencepiece python, models/rein-demo tokenizer) for plain strings "
                       "(no BOS) and a chat-rendered prompt (special tokens split first).",
        "cases": cases,
        "chat": {"messages": [{"role": "system", "content": "You are a helpful assistant."},
                              {"role": "user", "content": "When was Alder Ashgrove born?"}],
                 "text": chat, "ids": encoder.encode(chat)},
    })


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    log("preparing data")
    world, train_docs, valid_docs, chats, prose, sp_input = prepare_data(args)
    os.makedirs(args.out, exist_ok=True)
    write_json(os.path.join(args.out, "world.json"), world)
    log(f"{len(train_docs)} training documents, {len(valid_docs)} validation documents, "
        f"{len(chats)} chat examples, {len(prose)} prose facts")
    processor = train_sentencepiece(sp_input, os.path.join(args.work, "tokenizer"), args.vocab)
    encoder = ChatEncoder(processor)
    general, valid, synthetic = tokenize_streams(encoder, processor, train_docs, valid_docs, chats, prose)
    log(f"tokens: general {len(general)}, synthetic {len(synthetic)}, validation {len(valid)}")
    config = ModelConfig(vocab_size=processor.get_piece_size(), hidden_size=args.hidden,
                         num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                         num_hidden_layers=args.layers, intermediate_size=args.intermediate)
    seed_everything(args.seed)
    model = DemoModel(config)
    log(f"parameters: {model.parameter_count()}")
    steps, minutes = train(model, args, general, synthetic)
    torch.save({"config": config.to_dict(), "state": model.state_dict()}, os.path.join(args.work, "model.pt"))
    model.eval()
    valid_ppl, valid_tokens = perplexity(model, valid, args.seq, args.valid_windows)
    log(f"validation perplexity {valid_ppl:.2f} on {valid_tokens} held-out corpus tokens")
    accuracy, facts = fact_accuracy(model, encoder, processor, world, processor.piece_to_id(EOS_TURN),
                                    args.fact_limit)
    log(f"world-fact accuracy (greedy, trained questions): {accuracy:.3f} of {facts}")
    metrics = {
        "parameters": model.parameter_count(), "steps": steps, "training_minutes": round(minutes, 2),
        "tokens_per_step": args.batch * args.seq, "sequence_length": args.seq,
        "short_sequence_length": args.short_seq, "long_fraction": args.long_fraction, "peak_lr": args.lr, "seed": args.seed,
        "threads": args.threads, "tokens_seen": steps * args.batch * args.seq,
        "train_tokens": {"general": int(len(general)), "synthetic": int(len(synthetic))},
        "validation": {"perplexity": round(valid_ppl, 3), "tokens": valid_tokens,
                       "slice": "last 5% of the documents of each corpus file"},
        "world_fact_accuracy": {"greedy": round(accuracy, 4), "questions": facts},
        "command": "/usr/bin/python3 tools/train-demo-model/train.py --minutes %g --fact-limit %d" % (
            args.minutes, args.fact_limit),
        "reproduce_exact_steps": "/usr/bin/python3 tools/train-demo-model/train.py --steps %d --fact-limit %d" % (
            steps, args.fact_limit),
    }
    write_model_files(model, processor, args, metrics)
    write_goldens(model, encoder, processor, args)
    samples = {}
    for prompt in ["Once upon a time", "The river", "<s><|user|>Tell me about Aldmere.<|end|><|assistant|>",
                   "<s><|user|>List three colours.<|end|><|assistant|>"]:
        ids = encoder.encode(prompt if prompt.startswith("<s>") else BOS + prompt)
        greedy_tokens, _ = greedy(model, ids, 48, stop_id=processor.piece_to_id(EOS_TURN))
        sampled = [processor.decode(sample(model, ids, 48, 0.8, 40, seed, processor.piece_to_id(EOS_TURN)))
                   for seed in (1, 2)]
        samples[prompt] = {"greedy": processor.decode(greedy_tokens), "sampled_t0.8_k40": sampled}
    write_json(os.path.join(args.work, "samples.json"), samples)
    log(json.dumps(samples, ensure_ascii=False, indent=1))
    log("done")


if __name__ == "__main__":
    main()
