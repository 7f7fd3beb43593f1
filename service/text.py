"""The one tokenizer of the training pipeline, identical to Keras `TextVectorization` defaults.

word2vec is trained on these tokens and the classifier's `TextVectorization` layer splits
text the same way, so the word2vec rows line up with the classifier's vocabulary, and
service/store/embed.py can turn text into the same tokens without importing TensorFlow.

The defaults are standardize="lower_and_strip_punctuation" and split="whitespace":
`tf.strings.lower` (which lowercases ASCII letters only), removal of the characters of
Keras's strip regex, then `tf.strings.split` on ASCII whitespace. The classifier is given
`clean(text)`, so `tokenize` cleans first.
"""
from __future__ import annotations

import re
import string
import unicodedata

# The characters of Keras's r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']' (",-." is a range).
STRIP_CHARS = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"
# tf.strings.split with no separator splits on ASCII whitespace only (not on U+00A0 etc.).
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
_TABLE = str.maketrans(string.ascii_uppercase, string.ascii_lowercase, STRIP_CHARS)
# Keras saves a vocabulary one token per line and reads it back with str.splitlines, which
# also breaks at these characters while tf.strings.split does not: a token holding one would
# come back as two and the saved model would refuse to load. `clean` turns them into spaces.
_LINE_BREAKS = str.maketrans({c: " " for c in "\x1c\x1d\x1e\x85\u2028\u2029"})

# Words are compared with keys in one Unicode normal form: "café" typed as "e" + U+0301
# (NFD, as macOS file names and some keyboards give it) finds the key "café" (NFC), and the
# other way round. Keys are published as the table has them; service/store/space.py compares.
NORMAL_FORM = "NFC"


def normal_form(word: str) -> str:
    """`word` in NORMAL_FORM (ASCII is already)."""
    return word if word.isascii() else unicodedata.normalize(NORMAL_FORM, word)


# Recorded with task spaces (embed.json) so readers can check they tokenize the same way.
SETTINGS = {"standardize": "lower_and_strip_punctuation", "split": "whitespace",
            "clean": "unicode line separators to spaces"}


def clean(text: str) -> str:
    """What the classifier is given instead of `text`: Unicode line separators made spaces."""
    return text.translate(_LINE_BREAKS)


def standardize(text: str) -> str:
    """Lowercase ASCII letters and drop the punctuation characters, like TextVectorization."""
    return text.translate(_TABLE)


def tokenize(text: str) -> list[str]:
    """The tokens TextVectorization looks up for `clean(text)`."""
    return [t for t in _WHITESPACE.split(standardize(clean(text))) if t]


# The other settings of a TextVectorization layer an imported model may use.
STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", "none", "steps", "custom")
STEPS = ("lower", "regex_replace")
SPLIT = ("whitespace", "character", "none")
_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_STRIP = str.maketrans("", "", STRIP_CHARS)


def tokenize_as(text: str, settings: dict) -> list[str]:
    """The tokens a TextVectorization layer with these settings looks up for `text`:
    {"standardize": one of STANDARDIZE, "split": one of SPLIT, "ngrams": None or N, "clean": ...}.
    "steps" replays a custom standardization traced into string ops (`replay`); a "custom" one
    (a TensorFlow function this process cannot run) is taken as lower_and_strip_punctuation,
    and service/store/embed.py says so with every answer."""
    if settings.get("clean"):
        text = clean(text)
    how = settings.get("standardize", "lower_and_strip_punctuation")
    if how == "steps":
        text = replay(text, settings["steps"])
    if how in ("lower_and_strip_punctuation", "lower", "custom"):
        text = text.translate(_LOWER)
    if how in ("lower_and_strip_punctuation", "strip_punctuation", "custom"):
        text = text.translate(_STRIP)
    split = settings.get("split", "whitespace")
    if split == "whitespace":
        tokens = [t for t in _WHITESPACE.split(text) if t]
    elif split == "character":
        tokens = list(text)  # tf.strings.unicode_split: every code point, spaces too
    else:
        tokens = [text] if text else []  # "" is the padding token: Keras looks up row 0
    ngrams = settings.get("ngrams")
    if ngrams and ngrams > 1:  # tf.strings.ngrams(width=(1..N), separator=" "): 1-grams first
        tokens = [" ".join(tokens[i:i + n]) for n in range(1, ngrams + 1)
                  for i in range(len(tokens) - n + 1)]
    return tokens


def replay(text: str, steps: list[dict]) -> str:
    """A custom standardization as the chain of TensorFlow string ops it was traced into:
    {"op": "lower", "encoding": "" (ASCII, tf.strings.lower's default) or "utf-8"} and
    {"op": "regex_replace", "pattern", "rewrite", "global"} (RE2 patterns; the build checks
    the replay gives the function's output on sample texts before recording it)."""
    for step in steps:
        if step["op"] == "lower":
            text = text.translate(_LOWER) if not step.get("encoding") else text.lower()
        else:
            # re.ASCII: RE2's \w, \d, \s and \b are ASCII classes, as they are with this flag.
            text = re.sub(step["pattern"], _rewrite(step["rewrite"]), text,
                          count=0 if step.get("global", True) else 1, flags=re.ASCII)
    return text


def _rewrite(template: str):
    """RE2's rewrite string (\\0-\\9 for groups, \\\\ for a backslash) as a re.sub function."""
    if "\\" not in template:
        return lambda match: template
    return lambda match: re.sub(r"\\(\d)|\\\\", lambda t: (match.group(int(t.group(1))) or "")
                                if t.group(1) else "\\", template)
