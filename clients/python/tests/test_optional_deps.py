"""Without the extras, the client works and what needs them says what to install: numpy is
hidden with `sys.modules["numpy"] = None` (an import of it then fails, as when it is not
installed) in a fresh interpreter, so nothing imported earlier masks it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from gensim.test.utils import datapath

CLIENT = Path(__file__).resolve().parents[1]


def run(code: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(CLIENT), "WORDSPACE_URL": url}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True, timeout=120)


def test_without_numpy_the_client_works_and_keyed_vectors_says_what_to_install(toy_url):
    done = run("""
        import sys
        sys.modules["numpy"] = None
        from wordspace_client import Client
        with Client() as c:
            space = c.space("toy")
            print(space.neighbors("king", k=1).words)
            try:
                space.keyed_vectors()
            except ModuleNotFoundError as e:
                print("raised:", e.name, e)
            try:
                import wordspace_client.keyed_vectors
            except ImportError as e:
                print("import:", e)
    """, toy_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "['queen']"
    assert lines[1] == ("raised: numpy the KeyedVectors facade needs numpy, which is not installed: "
                        "pip install 'wordspace-client[numpy]'")
    assert "pip install 'wordspace-client[numpy]'" in lines[2]


def test_without_scipy_evaluate_word_pairs_says_what_to_install(toy_url):
    done = run(f"""
        import sys
        sys.modules["scipy"] = None
        from wordspace_client import Client
        with Client() as c:
            kv = c.space("toy").keyed_vectors()
            print(kv.evaluate_word_analogies({datapath("questions-words.txt")!r})[0])  # numpy only
            try:
                kv.evaluate_word_pairs({datapath("wordsim353.tsv")!r})
            except ModuleNotFoundError as e:
                print("raised:", e.name, e)
    """, toy_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ("raised: scipy evaluate_word_pairs needs scipy, which is not "
                                            "installed: pip install 'wordspace-client[evaluate]'")
