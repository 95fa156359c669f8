#!/usr/bin/python3
"""make_tiny_models: builds the two small random-weight causal LMs that Rein's tests load.

Run with Debian's interpreter (torch 1.13, onnx):  /usr/bin/python3 tools/make-tiny-models/make_tiny_models.py [OUT_DIR]
(OUT_DIR defaults to tests/fixtures/models). It writes, in Hugging Face folder layout:

  tiny-llama/  Llama-style: RMSNorm, RoPE, SwiGLU, grouped-query attention; a SentencePiece-style
               tokenizer (Metaspace pre-tokenizer, BPE with byte fallback, <s> BOS, </s> EOS)
  tiny-gpt2/   GPT-2-style: LayerNorm, learned positions, GELU, tied embeddings; a byte-level BPE
               tokenizer with <|endoftext|> as BOS/EOS

each with config.json, tokenizer.json, tokenizer_config.json (jinja chat template, special tokens),
onnx/model.onnx (optimum names: input_ids, attention_mask, position_ids, past_key_values.N.key|value
-> logits, present.N.key|value; dynamic batch, sequence and past axes), and golden.json: torch's
greedy tokens for two prompts, so the TypeScript decode loop can be compared with torch.

The tokenizers are trained here (a few hundred BPE merges over a short built-in text) so that the
folders stay well under 1 MB and nothing is downloaded. Weights are random with a fixed seed.

Hazard: in torch 1.13 `repeat_interleave` exports wrongly with dynamic axes; grouped-query attention
uses expand + reshape instead.
"""
import json
import math
import os
import re
import sys

import torch
import torch.nn as nn

SEED = 1234
OPSET = 14

TRAINING_TEXT = """
The gateway sits in front of a language model and checks what goes in and what comes out.
A policy says which checks run, how strict they are, and what happens when one of them fires.
Every decision is written to an audit trail, so that a reviewer can later see why a request was
allowed, flagged, redacted or blocked. The model itself only predicts the next token; the gateway
decides which tokens may come next when the output must follow a grammar or a JSON schema.
In the morning the river was quiet and the boats were still tied to the old wooden pier.
She opened the window, looked at the grey sky, and decided that the walk could wait until noon.
Numbers such as 12, 345 and 6789 appear in invoices, dates like 2024-05-17 appear in letters.
{"name": "Ada", "age": 36, "city": "London", "tags": ["math", "engines"], "active": true}
Questions are answered, answers are checked, and checked answers are returned to the user.
""" * 3

GPT2_PATTERN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    direct = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table = {}
    extra = 0
    for b in range(256):
        if b in direct:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def train_bpe(words, base_symbols, num_merges):
    """Plain BPE: repeatedly merge the most frequent adjacent pair (ties broken by the pair's text)."""
    counts = {}
    for word in words:
        key = tuple(word)
        counts[key] = counts.get(key, 0) + 1
    vocab_words = {k: v for k, v in counts.items()}
    merges = []
    symbols = list(base_symbols)
    known = set(symbols)
    for _ in range(num_merges):
        pairs = {}
        for word, count in vocab_words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + count
        if not pairs:
            break
        best = max(pairs.items(), key=lambda item: (item[1], item[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        merged = best[0] + best[1]
        if merged not in known:
            known.add(merged)
            symbols.append(merged)
        new_words = {}
        for word, count in vocab_words.items():
            out = []
            i = 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + count
        vocab_words = new_words
    return merges, symbols


def apply_bpe(symbols, ranks):
    word = list(symbols)
    while len(word) > 1:
        best = None
        best_rank = None
        for i in range(len(word) - 1):
            rank = ranks.get((word[i], word[i + 1]))
            if rank is not None and (best_rank is None or rank < best_rank):
                best, best_rank = i, rank
        if best is None:
            break
        word = word[:best] + [word[best] + word[best + 1]] + word[best + 2:]
    return word


# ---------------------------------------------------------------- tokenizers

def make_gpt2_tokenizer(num_merges=220):
    table = bytes_to_unicode()
    words = [''.join(table[b] for b in piece.encode('utf-8')) for piece in GPT2_PATTERN.findall(TRAINING_TEXT)]
    base = [table[b] for b in range(256)]
    merges, symbols = train_bpe(words, base, num_merges)
    vocab = {s: i for i, s in enumerate(symbols)}
    eos_id = len(vocab)
    ranks = {pair: i for i, pair in enumerate(merges)}

    def encode(text):
        ids = []
        for piece in GPT2_PATTERN.findall(text):
            mapped = [table[b] for b in piece.encode('utf-8')]
            ids.extend(vocab[s] for s in apply_bpe(mapped, ranks))
        return ids

    eos = '<|endoftext|>'
    tokenizer = {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [{'id': eos_id, 'content': eos, 'single_word': False, 'lstrip': False, 'rstrip': False,
                          'normalized': False, 'special': True}],
        'normalizer': None,
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        'post_processor': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': '',
                  'end_of_word_suffix': '', 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': [a + ' ' + b for a, b in merges]},
    }
    template = ("{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}"
                "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}")
    config = {'bos_token': eos, 'eos_token': eos, 'unk_token': eos, 'add_bos_token': False,
              'model_max_length': 128, 'tokenizer_class': 'GPT2Tokenizer', 'chat_template': template,
              'clean_up_tokenization_spaces': False}
    return tokenizer, config, encode, eos_id + 1, eos_id, eos_id


def make_llama_tokenizer(num_merges=220):
    space = '\u2581'
    specials = ['<unk>', '<s>', '</s>']
    byte_tokens = ['<0x%02X>' % b for b in range(256)]
    text = TRAINING_TEXT.replace('\n', ' ')
    words = [space + w for w in text.split(' ') if w]
    chars = sorted({c for w in words for c in w})
    merges, symbols = train_bpe(words, chars, num_merges)
    ordered = specials + byte_tokens + symbols
    vocab = {s: i for i, s in enumerate(ordered)}
    ranks = {pair: i for i, pair in enumerate(merges)}

    def encode(text, add_bos=True):
        ids = [1] if add_bos else []
        normalized = text.replace(' ', space)
        if not normalized.startswith(space):
            normalized = space + normalized
        # Metaspace split=true: each piece starts at a space marker.
        pieces = re.findall(space + '[^' + space + ']*|[^' + space + ']+', normalized)
        for piece in pieces:
            for symbol in apply_bpe(list(piece), ranks):
                if symbol in vocab:
                    ids.append(vocab[symbol])
                else:
                    ids.extend(vocab['<0x%02X>' % b] for b in symbol.encode('utf-8'))
        return ids

    tokenizer = {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [{'id': i, 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False,
                          'normalized': False, 'special': True} for i, s in enumerate(specials)],
        'normalizer': None,
        'pre_tokenizer': {'type': 'Metaspace', 'replacement': space, 'prepend_scheme': 'first', 'split': True},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': '<s>', 'type_id': 1}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
            'special_tokens': {'<s>': {'id': '<s>', 'ids': [1], 'tokens': ['<s>']}},
        },
        'decoder': {'type': 'Sequence', 'decoders': [
            {'type': 'Replace', 'pattern': {'String': space}, 'content': ' '},
            {'type': 'ByteFallback'},
            {'type': 'Fuse'},
            {'type': 'Strip', 'content': ' ', 'start': 1, 'stop': 0},
        ]},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': '<unk>', 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': True, 'byte_fallback': True, 'ignore_merges': False,
                  'vocab': vocab, 'merges': [a + ' ' + b for a, b in merges]},
    }
    template = ("{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}"
                "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}")
    config = {'bos_token': '<s>', 'eos_token': '</s>', 'unk_token': '<unk>', 'add_bos_token': True,
              'add_eos_token': False, 'model_max_length': 256, 'tokenizer_class': 'LlamaTokenizer',
              'chat_template': template, 'clean_up_tokenization_spaces': False, 'legacy': False}
    return tokenizer, config, encode, len(vocab), 1, 2


# ---------------------------------------------------------------- models

def attention_bias(attention_mask, query_length):
    """Additive bias [B,1,S,T]: causal over absolute positions, and padding columns masked.
    Finite (-1e9), so a row with nothing to attend to gives a uniform softmax rather than NaN."""
    key_length = attention_mask.shape[1]
    query_index = torch.arange(query_length, device=attention_mask.device).unsqueeze(1)
    key_index = torch.arange(key_length, device=attention_mask.device).unsqueeze(0)
    causal = key_index <= (query_index + (key_length - query_length))
    allowed = causal.unsqueeze(0).unsqueeze(0) & (attention_mask.unsqueeze(1).unsqueeze(2) > 0)
    return (~allowed).to(torch.float32) * -1e9


class RMSNorm(nn.Module):
    def __init__(self, size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        hidden = config['hidden_size']
        self.heads = config['num_attention_heads']
        self.kv_heads = config['num_key_value_heads']
        self.head_dim = hidden // self.heads
        self.input_norm = RMSNorm(hidden, config['rms_norm_eps'])
        self.post_norm = RMSNorm(hidden, config['rms_norm_eps'])
        self.q_proj = nn.Linear(hidden, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, hidden, bias=False)
        self.gate_proj = nn.Linear(hidden, config['intermediate_size'], bias=False)
        self.up_proj = nn.Linear(hidden, config['intermediate_size'], bias=False)
        self.down_proj = nn.Linear(config['intermediate_size'], hidden, bias=False)

    def forward(self, x, bias, cos, sin, past_key, past_value):
        batch, length, _ = x.shape
        h = self.input_norm(x)
        q = self.q_proj(h).view(batch, length, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(h).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(h).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        key = torch.cat([past_key, k], dim=2)
        value = torch.cat([past_value, v], dim=2)
        groups = self.heads // self.kv_heads
        total = key.shape[2]
        # GQA by expand + reshape (repeat_interleave exports wrongly with dynamic axes in torch 1.13).
        key_full = key.unsqueeze(2).expand(batch, self.kv_heads, groups, total, self.head_dim).reshape(batch, self.heads, total, self.head_dim)
        value_full = value.unsqueeze(2).expand(batch, self.kv_heads, groups, total, self.head_dim).reshape(batch, self.heads, total, self.head_dim)
        scores = torch.matmul(q, key_full.transpose(2, 3)) / math.sqrt(self.head_dim) + bias
        attention = torch.softmax(scores, dim=-1)
        out = torch.matmul(attention, value_full).transpose(1, 2).reshape(batch, length, self.heads * self.head_dim)
        x = x + self.o_proj(out)
        h = self.post_norm(x)
        x = x + self.down_proj(torch.nn.functional.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, key, value


class TinyLlama(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config['vocab_size'], config['hidden_size'])
        self.layers = nn.ModuleList([LlamaLayer(config) for _ in range(config['num_hidden_layers'])])
        self.norm = RMSNorm(config['hidden_size'], config['rms_norm_eps'])
        self.lm_head = nn.Linear(config['hidden_size'], config['vocab_size'], bias=False)
        head_dim = config['hidden_size'] // config['num_attention_heads']
        inv_freq = 1.0 / (config['rope_theta'] ** (torch.arange(0, head_dim, 2).float() / head_dim))
        self.register_buffer('inv_freq', inv_freq, persistent=False)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        x = self.embed(input_ids)
        bias = attention_bias(attention_mask, input_ids.shape[1])
        freqs = position_ids.unsqueeze(-1).to(torch.float32) * self.inv_freq
        emb = torch.cat([freqs, freqs], dim=-1)
        cos = emb.cos().unsqueeze(1)
        sin = emb.sin().unsqueeze(1)
        presents = []
        for index, layer in enumerate(self.layers):
            x, key, value = layer(x, bias, cos, sin, past[2 * index], past[2 * index + 1])
            presents += [key, value]
        return (self.lm_head(self.norm(x)), *presents)


class Gpt2Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        hidden = config['n_embd']
        self.heads = config['n_head']
        self.head_dim = hidden // self.heads
        self.ln_1 = nn.LayerNorm(hidden, eps=config['layer_norm_epsilon'])
        self.ln_2 = nn.LayerNorm(hidden, eps=config['layer_norm_epsilon'])
        self.c_attn = nn.Linear(hidden, 3 * hidden)
        self.c_proj = nn.Linear(hidden, hidden)
        self.c_fc = nn.Linear(hidden, 4 * hidden)
        self.mlp_proj = nn.Linear(4 * hidden, hidden)

    def forward(self, x, bias, past_key, past_value):
        batch, length, hidden = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(hidden, dim=2)
        q = q.view(batch, length, self.heads, self.head_dim).transpose(1, 2)
        k = k.view(batch, length, self.heads, self.head_dim).transpose(1, 2)
        v = v.view(batch, length, self.heads, self.head_dim).transpose(1, 2)
        key = torch.cat([past_key, k], dim=2)
        value = torch.cat([past_value, v], dim=2)
        scores = torch.matmul(q, key.transpose(2, 3)) / math.sqrt(self.head_dim) + bias
        out = torch.matmul(torch.softmax(scores, dim=-1), value).transpose(1, 2).reshape(batch, length, hidden)
        x = x + self.c_proj(out)
        x = x + self.mlp_proj(torch.nn.functional.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))
        return x, key, value


class TinyGpt2(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.wte = nn.Embedding(config['vocab_size'], config['n_embd'])
        self.wpe = nn.Embedding(config['n_positions'], config['n_embd'])
        self.blocks = nn.ModuleList([Gpt2Block(config) for _ in range(config['n_layer'])])
        self.ln_f = nn.LayerNorm(config['n_embd'], eps=config['layer_norm_epsilon'])

    def forward(self, input_ids, attention_mask, position_ids, *past):
        x = self.wte(input_ids) + self.wpe(position_ids)
        bias = attention_bias(attention_mask, input_ids.shape[1])
        presents = []
        for index, block in enumerate(self.blocks):
            x, key, value = block(x, bias, past[2 * index], past[2 * index + 1])
            presents += [key, value]
        return (torch.matmul(self.ln_f(x), self.wte.weight.t()), *presents)


def randomize(model, std):
    """Random weights with a wider spread than the usual 0.02, so logits are far from ties."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() >= 2:
                parameter.normal_(0.0, std)
            elif name.endswith('bias'):
                parameter.normal_(0.0, 0.02)


def export(model, out_path, layers, kv_heads, head_dim, vocab_size):
    batch, length, past_length = 2, 3, 2
    input_ids = torch.randint(0, vocab_size, (batch, length))
    attention_mask = torch.ones(batch, past_length + length, dtype=torch.int64)
    position_ids = torch.arange(past_length, past_length + length).unsqueeze(0).expand(batch, length).contiguous()
    past = [torch.zeros(batch, kv_heads, past_length, head_dim) for _ in range(2 * layers)]
    past_names = []
    present_names = []
    for i in range(layers):
        past_names += ['past_key_values.%d.key' % i, 'past_key_values.%d.value' % i]
        present_names += ['present.%d.key' % i, 'present.%d.value' % i]
    dynamic = {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
               'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
               'position_ids': {0: 'batch_size', 1: 'sequence_length'},
               'logits': {0: 'batch_size', 1: 'sequence_length'}}
    for name in past_names:
        dynamic[name] = {0: 'batch_size', 2: 'past_sequence_length'}
    for name in present_names:
        dynamic[name] = {0: 'batch_size', 2: 'total_sequence_length'}
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    torch.onnx.export(model, (input_ids, attention_mask, position_ids, *past), out_path,
                      input_names=['input_ids', 'attention_mask', 'position_ids'] + past_names,
                      output_names=['logits'] + present_names, dynamic_axes=dynamic,
                      opset_version=OPSET, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(out_path))


def greedy(model, prompt_ids, layers, kv_heads, head_dim, max_new, eos_id):
    """Torch greedy decode with the same KV-cache calling convention as the ONNX graph."""
    ids = torch.tensor([prompt_ids])
    past = [torch.zeros(1, kv_heads, 0, head_dim) for _ in range(2 * layers)]
    total = 0
    out = []
    step_ids = ids
    with torch.no_grad():
        for _ in range(max_new):
            length = step_ids.shape[1]
            mask = torch.ones(1, total + length, dtype=torch.int64)
            positions = torch.arange(total, total + length).unsqueeze(0)
            logits, *past = model(step_ids, mask, positions, *past)
            total += length
            token = int(torch.argmax(logits[0, -1]))
            out.append(token)
            if token == eos_id:
                break
            step_ids = torch.tensor([[token]])
    return out


def write_json(path, value):
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(value, handle, ensure_ascii=False, indent=1)
        handle.write('\n')


PROMPTS = ['The gateway checks what', 'In the morning the river']


def build_llama(root):
    torch.manual_seed(SEED)
    tokenizer, tokenizer_config, encode, vocab_size, bos_id, eos_id = make_llama_tokenizer()
    config = {'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': vocab_size,
              'hidden_size': 32, 'intermediate_size': 64, 'num_hidden_layers': 2, 'num_attention_heads': 4,
              'num_key_value_heads': 2, 'head_dim': 8, 'max_position_embeddings': 256, 'rms_norm_eps': 1e-6,
              'rope_theta': 10000.0, 'bos_token_id': bos_id, 'eos_token_id': eos_id, 'tie_word_embeddings': False,
              'torch_dtype': 'float32'}
    model = TinyLlama(config).eval()
    randomize(model, 0.35)
    folder = os.path.join(root, 'tiny-llama')
    os.makedirs(folder, exist_ok=True)
    export(model, os.path.join(folder, 'onnx', 'model.onnx'), 2, 2, 8, vocab_size)
    write_json(os.path.join(folder, 'config.json'), config)
    write_json(os.path.join(folder, 'tokenizer.json'), tokenizer)
    write_json(os.path.join(folder, 'tokenizer_config.json'), tokenizer_config)
    golden = []
    for prompt in PROMPTS:
        prompt_ids = encode(prompt)
        golden.append({'prompt': prompt, 'prompt_ids': prompt_ids,
                       'greedy_ids': greedy(model, prompt_ids, 2, 2, 8, 16, eos_id)})
    write_json(os.path.join(folder, 'golden.json'), {'seed': SEED, 'max_new_tokens': 16, 'cases': golden})


def build_gpt2(root):
    torch.manual_seed(SEED + 1)
    tokenizer, tokenizer_config, encode, vocab_size, bos_id, eos_id = make_gpt2_tokenizer()
    config = {'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2', 'vocab_size': vocab_size, 'n_embd': 32,
              'n_layer': 2, 'n_head': 4, 'n_positions': 128, 'n_ctx': 128, 'layer_norm_epsilon': 1e-5,
              'activation_function': 'gelu_new', 'bos_token_id': bos_id, 'eos_token_id': eos_id,
              'tie_word_embeddings': True, 'torch_dtype': 'float32'}
    model = TinyGpt2(config).eval()
    randomize(model, 0.35)
    folder = os.path.join(root, 'tiny-gpt2')
    os.makedirs(folder, exist_ok=True)
    export(model, os.path.join(folder, 'onnx', 'model.onnx'), 2, 4, 8, vocab_size)
    write_json(os.path.join(folder, 'config.json'), config)
    write_json(os.path.join(folder, 'tokenizer.json'), tokenizer)
    write_json(os.path.join(folder, 'tokenizer_config.json'), tokenizer_config)
    golden = []
    for prompt in PROMPTS:
        prompt_ids = encode(prompt)
        golden.append({'prompt': prompt, 'prompt_ids': prompt_ids,
                       'greedy_ids': greedy(model, prompt_ids, 2, 4, 8, 16, eos_id)})
    write_json(os.path.join(folder, 'golden.json'), {'seed': SEED + 1, 'max_new_tokens': 16, 'cases': golden})


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'fixtures', 'models')
    torch.set_num_threads(1)
    build_llama(root)
    build_gpt2(root)
    print('wrote', os.path.abspath(root))


if __name__ == '__main__':
    main()
