"""JSON out of the app with orjson: Flask's JSON provider, replaced for encoding.

Encoding a neighbours answer with the standard library costs about as much as the rest of
the view; orjson does it in a few microseconds and writes bytes straight into the response.
It encodes dataclasses (the store's result objects) and numpy arrays itself; anything else
goes through Flask's own fallback (dates, UUIDs, objects with __html__). Keys keep their
insertion order, as the API documents them. Request bodies are decoded in one place,
service/web/params.py: with orjson, or the standard library for integers past 64 bits (the
spec allows any size) and for the error message of a body orjson refuses.
"""
from __future__ import annotations

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj, **kwargs) -> str:
        return self._encode(obj).decode()

    def response(self, *args, **kwargs):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self._encode(obj), mimetype=self.mimetype)

    def _encode(self, obj) -> bytes:
        # OPT_NON_STR_KEYS makes orjson check every key (a 1,000-word answer took 4.7 ms, not
        # 1): only an answer with a key that is not a string is encoded again with it.
        try:
            return orjson.dumps(obj, default=self.default, option=orjson.OPT_SERIALIZE_NUMPY)
        except orjson.JSONEncodeError:
            return orjson.dumps(obj, default=self.default, option=_OPTIONS)
