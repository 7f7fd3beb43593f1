"""A model's custom standardization function, traced into the TensorFlow string ops it runs
(tf.strings.lower, tf.strings.regex_replace), so the server can replay it in Python
(service/text.py's `replay`) and sentence vectors stay exactly the model's. The replay is
recorded only when it gives the function's own output on every sample text below; a
function made of other ops stays "custom", and the answers say what is computed instead.
"""
from __future__ import annotations

import re

from service.text import replay

# Sample texts: case, punctuation, HTML breaks, Unicode, whitespace of every kind.
SAMPLES = [
    "Hello, World! It's GREAT.", "a<br />b<br/>c <br /> d", "don't STOP-me.now (really?) [x] {y}",
    "tabs\tand\nnewlines\r\nvertical\x0bfeeds", "ÉCOLE Über naïve ΣΑΣ İstanbul ß",
    "non\xa0breaking\u2003em space", "a_b c~d e|f @m #n $o %p ^q &r *s +t =u /w \\x `y \"z\"",
    "emoji 🎬 film… «quoted» — dash", "numbers 3.14 1,000 50%", "", "!!!", "MiXeD CaSe 42",
    "<p>Some <b>HTML</b></p>", "line\u2028separator\x85next", "Élan@Über x@y çà_1 ٣ 𝟘",
]
_PASS_THROUGH = ("Placeholder", "Identity", "NoOp")


def traced_steps(function) -> list[dict] | None:
    """The function as a chain of replayable string ops, checked on SAMPLES; None when it is
    not one (other ops, or a replay that differs)."""
    import tensorflow as tf

    try:
        graph = tf.function(function).get_concrete_function(
            tf.TensorSpec([None], tf.string)).graph
    except (TypeError, ValueError):
        return None
    steps, previous = [], None
    for op in graph.get_operations():
        if op.type in _PASS_THROUGH:
            previous = op.outputs[0].name if op.outputs and op.type == "Placeholder" else previous
            continue
        if len(op.inputs) != 1 or op.inputs[0].name != previous:
            return None  # not a single chain from the input
        if op.type == "StringLower":
            steps.append({"op": "lower", "encoding": op.get_attr("encoding").decode()})
        elif op.type == "StaticRegexReplace":
            steps.append({"op": "regex_replace", "pattern": op.get_attr("pattern").decode(),
                          "rewrite": op.get_attr("rewrite").decode(),
                          "global": bool(op.get_attr("replace_global"))})
        else:
            return None
        previous = op.outputs[0].name
    try:
        want = [t.decode("utf-8") for t in function(tf.constant(SAMPLES)).numpy()]
        return steps if want == [replay(t, steps) for t in SAMPLES] else None
    except (tf.errors.OpError, TypeError, ValueError, re.error):  # re.error: RE2-only syntax
        return None
