"""The client's version is written once, in its pyproject.toml; the package and its
User-Agent read it from the installed metadata."""
import tomllib
from pathlib import Path

import wordspace_client
from wordspace_client.transport import options

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_version_comes_from_pyproject():
    written = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]
    assert wordspace_client.__version__ == written


def test_the_user_agent_says_it():
    sent = options("http://127.0.0.1:1", None, 1.0, 0, 0.0).headers["User-Agent"]
    assert sent == f"wordspace-client/{wordspace_client.__version__}"
