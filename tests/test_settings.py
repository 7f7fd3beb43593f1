"""The settings' help lives with their declarations (service/settings.py), and the README's
table is generated from it: it is current, and every setting has its help."""
from __future__ import annotations

import dataclasses

from service import settings
from service.settings import README_BLOCK, Settings, markdown_table, setting_help
from tests.support import ROOT


def test_the_readme_table_is_current():
    block = README_BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert block, "README.md has no <!-- settings --> ... <!-- /settings --> block"
    assert block[0] == block[1] + markdown_table() + block[2], \
        "README.md's settings are stale: python -m service.settings --readme README.md"


def test_every_setting_has_its_help():
    groups = setting_help()
    names = [n for group, _ in groups for n in group]
    assert names == [f.name for f in dataclasses.fields(Settings)]
    assert all(len(help) > 10 for _, help in groups), groups


def test_fields_declared_under_one_comment_share_it():
    groups = dict((tuple(names), help) for names, help in setting_help())
    assert groups[("host", "port")] == "Address and port gunicorn binds."
    row = next(line for line in markdown_table().splitlines() if "`WORDSPACE_HOST`" in line)
    assert row.startswith("| `WORDSPACE_HOST`, `WORDSPACE_PORT` | `127.0.0.1`, `8000` |")


def test_the_command_rewrites_the_block(tmp_path, capsys):
    page = tmp_path / "README.md"
    page.write_text("# x\n\n<!-- settings -->\nstale table\n<!-- /settings -->\nafter\n")
    assert settings.main(["--readme", str(page)]) == 0
    text = page.read_text()
    assert "stale table" not in text and text.endswith("<!-- /settings -->\nafter\n")
    assert "| `WORDSPACE_CATALOG` | `indexes` |" in text
    assert capsys.readouterr().out == ""
    assert settings.main(["--markdown"]) == 0
    assert capsys.readouterr().out == markdown_table()
