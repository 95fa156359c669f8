"""Trains the demo model's SentencePiece BPE tokenizer and converts it to Hugging Face files.

SentencePiece settings are chosen so that a plain Hugging Face BPE can reproduce them exactly:
identity normalisation (no NFKC), extra whitespace kept, dummy prefix on, byte fallback on. The
chat markers are control symbols (never produced from text by SentencePiece); in tokenizer.json
they are special added tokens, so the text is split on them first and every remaining section is
encoded on its own — `encode_with_specials` does the same in Python, for the training data.

The dummy prefix is written as a Prepend("▁") + Replace(" " → "▁") normaliser (what Hugging Face's
own Llama converter does) rather than a Metaspace pre-tokenizer: tokenizers.js's Metaspace skips
the prefix when the text already starts with a space, SentencePiece does not.
"""
import json
import re

import sentencepiece as spm

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>"]
CHAT_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
BOS, EOS_TURN = "<s>", "<|end|>"
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def train_sentencepiece(input_path, model_prefix, vocab_size, seed_sentences=2_000_000):
    spm.SentencePieceTrainer.train(
        input=input_path,
        model_prefix=model_prefix,
        model_type="bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        character_coverage=0.9995,
        unk_id=0, bos_id=1, eos_id=2, pad_id=3,
        control_symbols=CHAT_TOKENS,
        input_sentence_size=seed_sentences,
        shuffle_input_sentence=True,
        max_sentence_length=16384,
        num_threads=2,
        minloglevel=2,
    )
    return spm.SentencePieceProcessor(model_file=model_prefix + ".model")


class ChatEncoder:
    """Encodes text containing special tokens exactly as tokenizer.json (added tokens) does."""

    def __init__(self, processor):
        self.processor = processor
        specials = SPECIAL_TOKENS + CHAT_TOKENS
        self.special_ids = {token: processor.piece_to_id(token) for token in specials}
        self.pattern = re.compile("(" + "|".join(re.escape(token) for token in specials) + ")")

    def encode(self, text):
        ids = []
        for section in self.pattern.split(text):
            if not section:
                continue
            if section in self.special_ids:
                ids.append(self.special_ids[section])
            else:
                ids.extend(self.processor.encode(section))
        return ids

    def render_chat(self, messages, add_generation_prompt):
        text = BOS
        for message in messages:
            text += "<|" + message["role"] + "|>" + message["content"] + EOS_TURN
        if add_generation_prompt:
            text += "<|assistant|>"
        return text


def to_hugging_face(processor):
    """Returns (tokenizer.json dict, tokenizer_config.json dict)."""
    size = processor.get_piece_size()
    vocab = {processor.id_to_piece(index): index for index in range(size)}
    mergeable = [index for index in range(size)
                 if not (processor.is_control(index) or processor.is_unknown(index) or processor.is_byte(index))]
    merges = []
    for index in mergeable:
        piece = processor.id_to_piece(index)
        local = []
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab:
                local.append((vocab[left], vocab[right], left, right))
        local.sort()
        # SentencePiece BPE scores are -id, so ordering by the merged piece's id is ordering by score.
        merges.extend((index, item[0], item[1], item[2], item[3]) for item in local)
    merges.sort(key=lambda item: (-processor.get_score(item[0]), item[0], item[1], item[2]))
    added = []
    for token in SPECIAL_TOKENS + CHAT_TOKENS:
        added.append({"id": vocab[token], "content": token, "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True})
    bos_id = vocab[BOS]
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
        ]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": BOS, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {BOS: {"id": BOS, "ids": [bos_id], "tokens": [BOS]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ]},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": "<unk>",
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": True,
            "byte_fallback": True,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": [[item[3], item[4]] for item in merges],
        },
    }
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS,
        "eos_token": EOS_TURN,
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "add_bos_token": True,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 512,
        "chat_template": CHAT_TEMPLATE,
        "added_tokens_decoder": {str(vocab[token]): {"content": token, "lstrip": False, "normalized": False,
                                                     "rstrip": False, "single_word": False, "special": True}
                                 for token in SPECIAL_TOKENS + CHAT_TOKENS},
    }
    return tokenizer, config


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
