"""What a Keras model does from text to its pooled sentence vector, recorded as embed.json
(service/store/embed.py computes it in numpy): its TextVectorization settings, its
Embedding's mask, the pooling layer after the Embedding, and, honestly, the layers between
them the server does not compute.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from service.builder.keras_standardize import traced_steps
from service.errors import InputError, MissingInput
from service.store.embed import EMBED_FORMAT

# Layers that do nothing at inference: the pooled vector skips them exactly.
IDENTITY_AT_INFERENCE = ("Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout",
                          "AlphaDropout", "ActivityRegularization", "Masking")
POOLING = {"GlobalAveragePooling1D": "mean", "GlobalMaxPooling1D": "max"}
_POOLING_WORDS = {"mean": "mean", "max": "element-wise max", "sum": "sum"}
MAX_SPACED_TOKENS = 100
_DEFAULTS = {"standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": None}
# Not a difference from the model but an assumption about the user's own vectorizer: the
# model's vectors on the ids the service makes are exact (checked by the build).
OUTSIDE = "the vectorizer is outside the model: its defaults are assumed"


def vectorizers(model):
    from service.builder.keras_model import layers

    return [lyr for lyr in layers(model) if type(lyr).__name__ == "TextVectorization"]


def vocabulary(model, vocab: str | Path | None, path) -> list[str]:
    """The words in row order: the vocabulary file when given, else the model's single
    TextVectorization layer's.

    Raises:
        MissingInput: no such vocabulary file.
        InputError: no file and not exactly one TextVectorization layer.
    """
    if vocab is not None:
        vocab = Path(vocab)
        if not vocab.exists():
            raise MissingInput(f"{vocab}: no such vocabulary file")
        return vocab.read_text(encoding="utf-8").splitlines()
    found = vectorizers(model)
    if len(found) != 1:
        raise InputError(f"{path}: no single TextVectorization layer to take the vocabulary from; "
                         "give a vocabulary file with --vocab")
    return [str(w) for w in found[0].get_vocabulary()]


def text_settings(model) -> tuple[dict, int | None, str]:
    """(tokenizer settings, sequence length, what is not reproduced) of the model's
    TextVectorization; its defaults when the vectorizer is outside the model."""
    found = vectorizers(model)
    if not found:
        length = model.inputs[0].shape[1] if len(model.inputs[0].shape) > 1 else None
        return dict(_DEFAULTS), length, OUTSIDE
    config = found[0].get_config()
    settings = dict(_DEFAULTS)
    note = ""
    standardize = config.get("standardize")
    if standardize is None or standardize in ("lower_and_strip_punctuation", "lower",
                                               "strip_punctuation"):
        settings["standardize"] = standardize or "none"
    else:
        name = standardize if isinstance(standardize, str) else getattr(standardize, "__name__", "?")
        steps = traced_steps(standardize) if callable(standardize) else None
        settings["standardize"] = "custom" if steps is None else "steps"
        settings["custom"] = str(name)
        if steps is not None:
            settings["steps"] = steps
        else:
            note = (f"the model's custom standardization {name!r} is not applied: lowercase and "
                    "punctuation stripping instead")
    split = config.get("split")
    if split is None or split in ("whitespace", "character"):
        settings["split"] = split or "none"
    else:
        settings["split"] = "whitespace"
        note = "; ".join(filter(None, [note, "the model's custom split is not applied: whitespace instead"]))
    ngrams = config.get("ngrams")
    if isinstance(ngrams, int):
        settings["ngrams"] = ngrams
    elif ngrams:  # a tuple of widths: only those
        note = "; ".join(filter(None, [note, f"the model's n-grams of widths {tuple(ngrams)} are not "
                                       "computed: single words only"]))
    if config.get("output_mode", "int") != "int":
        raise InputError(f"TextVectorization {found[0].name!r} has output_mode "
                         f"{config.get('output_mode')!r}; an Embedding needs 'int'")
    return settings, config.get("output_sequence_length"), note


def pooling_after(model, embedding) -> tuple[str, list[str], str]:
    """(pooling, layers between Embedding and pooling not computed, pooling layer name):
    the first global pooling layer after the Embedding in the model's order."""
    from service.builder.keras_model import layers

    order = list(layers(model))
    skipped = []
    for lyr in order[order.index(embedding) + 1:]:
        kind = type(lyr).__name__
        if kind in POOLING:
            return POOLING[kind], skipped, kind
        if kind not in IDENTITY_AT_INFERENCE and not hasattr(lyr, "layers"):
            skipped.append(kind)
    return "mean", skipped, ""


def embed_config(model, embedding, words: list[str], weights: np.ndarray) -> dict:
    """embed.json for the model: how the server turns text into its pooled vector, and what it
    computes instead where it cannot (`computed`, `exact`; `notes` sorts the reasons: tokens
    not the model's, layers not applied, and what is assumed)."""
    tokenizer, length, note = text_settings(model)
    pooling, skipped, layer = pooling_after(model, embedding)
    mask_zero = bool(getattr(embedding, "mask_zero", False))
    unk = words.index("[UNK]") if "[UNK]" in words else None
    pad = 0 if words and words[0] == "" else None
    what = f"{_POOLING_WORDS[pooling]} of the Embedding rows of the tokens"
    if layer:
        what = f"the model's {layer} output: {what}"
    assumed = [note] if note == OUTSIDE else []
    tokens = [note] if note and note != OUTSIDE else []
    layers_missed = []
    # Tokens with whitespace (n-grams, the space of a character split) are no keys of a space:
    # a few travel in embed.json, more are counted as [UNK] and said so.
    spaced = [i for i, w in enumerate(words) if any(c.isspace() for c in w)]
    if len(spaced) > MAX_SPACED_TOKENS:
        tokens.append(f"{len(spaced)} tokens with spaces (n-grams) are not in the space: they count "
                      "as [UNK]")
        spaced = []
    if skipped:
        what = f"{_POOLING_WORDS[pooling]} of the word vectors"
        layers_missed.append(f"the model's {', '.join(dict.fromkeys(skipped))} "
                             f"{'is' if len(set(skipped)) == 1 else 'are'} not applied")
    if not layer:
        layers_missed.append("the model has no global pooling layer after its Embedding")
    if unk is None:
        tokens.append("the vocabulary has no [UNK] row: unknown tokens count as zeros")
    notes = tokens + layers_missed
    return {
        "format": EMBED_FORMAT,
        "tokenizer": tokenizer,
        "pooling": pooling,
        "mask_zero": mask_zero,
        "sequence_length": length,
        "unk_token": "[UNK]",
        "unk_vector": [float(v) for v in (weights[unk] if unk is not None
                                          else np.zeros(weights.shape[1]))],
        "pad_vector": None if pad is None else [float(v) for v in weights[pad]],
        "extra_vectors": {words[i]: [float(v) for v in weights[i]] for i in spaced},
        "computed": "; ".join([what] + notes + assumed),
        "exact": not notes,
        "notes": {"tokens": tokens, "layers": layers_missed, "assumed": assumed},
    }
