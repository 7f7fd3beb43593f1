"""A default or a version is written once and read everywhere else: the CLI's help is made
from the constants (service/store/index.py, topk.py), the served openapi.yaml's version from
the package's metadata (pyproject.toml)."""
from __future__ import annotations

import inspect
import re
import tomllib

import pytest
import yaml

from service import cli
from service.store import catalog
from service.store import index as ix
from service.store import topk as tk
from tests.support import ROOT


def help_of(capsys) -> str:
    with pytest.raises(SystemExit):
        cli.main(["build-index", "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_the_index_help_says_where_the_default_factory_changes(capsys):
    text = help_of(capsys)
    flat, graph = (int(n.replace(",", "")) for n in re.findall(r"up to ([\d,]+)", text)[:2])
    assert ix.default_factory(flat) == "Flat" and ix.default_factory(flat + 1) == "HNSW32"
    assert ix.default_factory(graph) == "HNSW32"
    assert ix.default_factory(graph + 1).startswith("IVF") and "IVF above" in text
    assert f"{ix.default_factory(3_000_000)} for 3M" in text


def test_the_target_recall_default_is_the_one_the_index_tunes_to(capsys):
    text = help_of(capsys)
    said = float(re.search(r"recall@10 \(default ([\d.]+)\)", text)[1])
    assert said == inspect.signature(catalog.write_space).parameters["target_recall"].default
    assert said == inspect.signature(ix.tune).parameters["target"].default


def test_the_topk_help_states_the_stored_rows(capsys):
    """The help's numbers come from service/store/topk.py, and mean what the build does."""
    text = help_of(capsys)
    k, rows = re.search(r"exact top-(\d+) of the first N rows \(0: none; default up to ([\d,]+)", text).groups()
    table = tk.rows_for((int(rows.replace(",", "")) * 4, 50))  # a small table: not cut by the budget
    assert (int(k), table) == (tk.K, int(rows.replace(",", "")))


def test_the_served_contract_has_the_package_version(client):
    written = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    served = yaml.safe_load(client.get("/openapi.yaml").get_data(as_text=True))
    assert served["info"]["version"] == written


def test_the_contract_version_is_read_not_written(monkeypatch):
    from service.settings import Settings
    from service.web import contract

    monkeypatch.setattr(contract, "package_version", lambda: "7.7.7")
    # the parsed file and what is made from it, each cached once per process
    caches = [f for f in vars(contract).values() if hasattr(f, "cache_clear")]
    for cached in caches:
        cached.cache_clear()
    try:
        assert yaml.safe_load(contract.render(Settings()))["info"]["version"] == "7.7.7"
    finally:
        for cached in caches:
            cached.cache_clear()
