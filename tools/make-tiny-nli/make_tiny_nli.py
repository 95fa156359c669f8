"""make_tiny_nli: builds a tiny, random-weight MNLI-style cross-encoder for Rein's tests.

Writes tests/fixtures/nli/tiny/{model.onnx, tokenizer.json, config.json}: a BERT-style WordPiece
tokenizer (lower case; every ASCII letter and digit, with ## continuations, plus a few hundred common
words, so any English text tokenizes) and a one-layer transformer encoder with token-type and position
embeddings, mean pooling and a 3-way classifier. Inputs input_ids, attention_mask, token_type_ids
(int64, [batch, sequence], both axes dynamic); output logits [batch, 3]. Labels follow the
cross-encoder/nli-* convention (0 contradiction, 1 entailment, 2 neutral) so that the loader's
id2label mapping is exercised. The weights are random (seeded): the model tests shapes and plumbing,
not NLI quality.

Run with Debian's interpreter (torch 1.13, onnx):  /usr/bin/python3 tools/make-tiny-nli/make_tiny_nli.py
"""
import json
import math
import os
import string

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'fixtures', 'nli', 'tiny')
MAX_POSITIONS = 128
HIDDEN = 32
HEADS = 2
COMMON_WORDS = (
    'the of and to in a is was he she it for on as with by at from his her that which this be are were an or '
    'born died known american english french german british actor singer writer player football politician '
    'university college school married children son daughter father mother year years first second album band '
    'film series team club city state country war world award member president new also after before during '
    'not no never yes did does has had have one two three four five six seven eight nine ten'
).split()
PUNCTUATION = list(string.punctuation)


def build_vocab():
    vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    for character in string.ascii_lowercase + string.digits:
        vocab.append(character)
    for character in string.ascii_lowercase + string.digits:
        vocab.append('##' + character)
    vocab.extend(PUNCTUATION)
    for word in COMMON_WORDS:
        if word not in vocab:
            vocab.append(word)
    return {token: index for index, token in enumerate(vocab)}


def special(token, index):
    return {'id': index, 'content': token, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True}


def tokenizer_json(vocab):
    cls_id, sep_id = vocab['[CLS]'], vocab['[SEP]']
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [special(token, vocab[token]) for token in ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']],
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True, 'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
            'pair': [
                {'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 0}},
                {'Sequence': {'id': 'B', 'type_id': 1}}, {'SpecialToken': {'id': '[SEP]', 'type_id': 1}},
            ],
            'special_tokens': {
                '[CLS]': {'id': '[CLS]', 'ids': [cls_id], 'tokens': ['[CLS]']},
                '[SEP]': {'id': '[SEP]', 'ids': [sep_id], 'tokens': ['[SEP]']},
            },
        },
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##', 'max_input_chars_per_word': 100, 'vocab': vocab},
    }


class TinyCrossEncoder(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.words = nn.Embedding(vocab_size, HIDDEN)
        self.positions = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.types = nn.Embedding(2, HIDDEN)
        self.norm1 = nn.LayerNorm(HIDDEN)
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)
        self.output = nn.Linear(HIDDEN, HIDDEN)
        self.norm2 = nn.LayerNorm(HIDDEN)
        self.feed_forward = nn.Sequential(nn.Linear(HIDDEN, 2 * HIDDEN), nn.GELU(), nn.Linear(2 * HIDDEN, HIDDEN))
        self.classifier = nn.Linear(HIDDEN, 3)

    def forward(self, input_ids, attention_mask, token_type_ids):
        batch, length = input_ids.shape
        positions = torch.arange(length, device=input_ids.device).unsqueeze(0).expand(batch, length)
        hidden = self.norm1(self.words(input_ids) + self.positions(positions) + self.types(token_type_ids))
        head = HIDDEN // HEADS

        def split(tensor):
            return tensor.reshape(batch, length, HEADS, head).transpose(1, 2)

        query, key, value = split(self.query(hidden)), split(self.key(hidden)), split(self.value(hidden))
        scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(head)
        mask = (1.0 - attention_mask.to(torch.float32)).unsqueeze(1).unsqueeze(2) * -1e9
        weights = torch.softmax(scores + mask, dim=-1)
        attended = torch.matmul(weights, value).transpose(1, 2).reshape(batch, length, HIDDEN)
        hidden = self.norm2(hidden + self.output(attended))
        hidden = hidden + self.feed_forward(hidden)
        weights = attention_mask.to(torch.float32).unsqueeze(-1)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        return self.classifier(pooled)


def main():
    torch.manual_seed(20231)
    os.makedirs(OUT, exist_ok=True)
    vocab = build_vocab()
    with open(os.path.join(OUT, 'tokenizer.json'), 'w') as handle:
        json.dump(tokenizer_json(vocab), handle)
    config = {
        'architectures': ['TinyCrossEncoder'],
        'model_type': 'rein-tiny-nli',
        'id2label': {'0': 'contradiction', '1': 'entailment', '2': 'neutral'},
        'label2id': {'contradiction': 0, 'entailment': 1, 'neutral': 2},
        'max_position_embeddings': MAX_POSITIONS,
        'vocab_size': len(vocab),
        'note': 'random weights, for tests only (tools/make-tiny-nli/make_tiny_nli.py)',
    }
    with open(os.path.join(OUT, 'config.json'), 'w') as handle:
        json.dump(config, handle, indent=2)
    model = TinyCrossEncoder(len(vocab)).eval()
    example = (torch.ones(2, 7, dtype=torch.int64), torch.ones(2, 7, dtype=torch.int64), torch.zeros(2, 7, dtype=torch.int64))
    axes = {0: 'batch', 1: 'sequence'}
    torch.onnx.export(
        model, example, os.path.join(OUT, 'model.onnx'),
        input_names=['input_ids', 'attention_mask', 'token_type_ids'], output_names=['logits'],
        dynamic_axes={'input_ids': axes, 'attention_mask': axes, 'token_type_ids': axes, 'logits': {0: 'batch'}},
        opset_version=14,
    )
    # Reference logits for one fixed input, so the TypeScript test can check the runtime agrees with torch.
    ids = torch.tensor([[vocab['[CLS]'], vocab['the'], vocab['band'], vocab['[SEP]'], vocab['he'], vocab['[SEP]']]], dtype=torch.int64)
    types = torch.tensor([[0, 0, 0, 0, 1, 1]], dtype=torch.int64)
    with torch.no_grad():
        logits = model(ids, torch.ones_like(ids), types)
    with open(os.path.join(OUT, 'reference.json'), 'w') as handle:
        json.dump({'input_ids': ids.tolist()[0], 'token_type_ids': types.tolist()[0], 'logits': logits.tolist()[0]}, handle)


if __name__ == '__main__':
    main()
