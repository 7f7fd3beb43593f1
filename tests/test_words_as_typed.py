"""Words as users type them: a word and a key that differ only in Unicode normal form are the
same word (NFC, service/text.py), whichever of the two is in the table; a raw UTF-8 request
target (curl '...?word=münchen') gets problem+json saying how to encode it behind nginx, and
the percent-encoded word the same answer as the word itself, under a real gunicorn."""
from __future__ import annotations

import json
import socket
import unicodedata
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

from service import create_app
from service.settings import Settings
from service.store import catalog
from service.store.space import Space
from service.store.tables import Table
from tests.support.server import serve
from tests.support.tables import toy_table

NFC_CAFE = unicodedata.normalize("NFC", "café")
NFD_CAFE = unicodedata.normalize("NFD", "café")
NFC_ZURICH = unicodedata.normalize("NFC", "Zürich")
NFD_ZURICH = unicodedata.normalize("NFD", "Zürich")


def _table() -> Table:
    t = toy_table(n_noise=20)
    # café as NFC (most tables), Zürich as NFD (a table made from NFD text), münchen NFC.
    keys = t.index_to_key + [NFC_CAFE, NFD_ZURICH, "münchen"]
    return Table(keys, np.vstack([t.vectors, t.vectors[:3]]))


@pytest.fixture
def cat(tmp_path) -> Path:
    catalog.write_space(tmp_path / "cat", "toy", _table(), source={"format": "test"})
    return tmp_path / "cat"


@pytest.mark.parametrize("typed, key", [(NFD_CAFE, NFC_CAFE), (NFC_CAFE, NFC_CAFE),
                                        (NFC_ZURICH, NFD_ZURICH),
                                        (unicodedata.normalize("NFD", "MÜNCHEN"), "münchen")])
def test_a_word_finds_the_key_that_differs_only_in_normal_form(typed, key):
    space = Space.from_table(_table(), "toy")
    assert space.index_to_key[space.find(typed)] == key
    assert space.find(unicodedata.normalize("NFD", "cafe")) is None  # no accent: another word


def test_over_http_both_forms_get_the_same_answer(cat):
    client = create_app(Settings(catalog=cat)).test_client()
    answers = [client.get(f"/v1/spaces/toy/neighbors?word={quote(w)}&k=3") for w in (NFC_CAFE, NFD_CAFE)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json["key"] == answers[1].json["key"] == NFC_CAFE
    assert answers[0].json["neighbors"] == answers[1].json["neighbors"]
    path = client.get(f"/v1/spaces/toy/similarity?a={quote(NFC_ZURICH)}&b={quote(NFD_CAFE)}")
    assert path.status_code == 200, path.json
    listed = client.get(f"/v1/spaces/toy/words?prefix={quote(NFD_CAFE)}")
    assert listed.status_code == 200 and NFC_CAFE in listed.json["words"], listed.json


def _get(port: int, target: bytes) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET sent as these bytes, on a raw socket."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    types = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("content-type:")]
    return int(lines[0].split()[1]), (types or [""])[0], body


@pytest.mark.slow
@pytest.mark.parametrize("proxy", [False, True], ids=["gunicorn", "nginx"])
def test_raw_utf8_in_the_request_target(cat, proxy):
    """Percent-encoded, NFC or NFD: the same neighbours, directly and behind nginx. Raw
    UTF-8 behind nginx: problem+json saying how to encode it (gunicorn alone refuses it with
    its own page, before the app: docs/catalog-spec.md)."""
    if proxy:
        pytest.importorskip("service.supervise").find_nginx()
    with serve(cat, proxy=proxy) as server:
        encoded = [_get(server.port, f"/v1/spaces/toy/neighbors?word={quote(w)}&k=3".encode())
                   for w in ("münchen", unicodedata.normalize("NFD", "münchen"))]
        assert [e[0] for e in encoded] == [200, 200]
        assert json.loads(encoded[0][2])["neighbors"] == json.loads(encoded[1][2])["neighbors"]
        for target in ("/v1/spaces/toy/neighbors?word=münchen&k=3", "/v1/spaces/toy/words/münchen"):
            status, content_type, body = _get(server.port, target.encode("utf-8"))
            assert status == 400
            if proxy:
                assert content_type == "application/problem+json"
                problem = json.loads(body)
                assert problem["status"] == 400 and "percent-encode" in problem["detail"]
                assert "m%C3%BCnchen" in problem["detail"]
