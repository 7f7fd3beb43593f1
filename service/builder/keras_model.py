"""Load a Keras model as people save it (`model.save("x.keras")`), with the user's custom
standardization function named as "module:function".

Imported at build time only: it imports TensorFlow.
"""
from __future__ import annotations

import importlib
import os
import re
import sys
import zipfile
from pathlib import Path

from service.errors import InputError, MissingInput

# What Keras raises for a file it cannot load: ValueError for a file that is no zip,
# KeyError for a zip without config.json, TypeError for a class or function it cannot find,
# OSError from h5py.
_LOAD_ERRORS = (ValueError, KeyError, TypeError, OSError, zipfile.BadZipFile)
_NOT_FOUND = re.compile(r"Could not locate (function|class) '([^']+)'")
OPTION = "--standardize module:function (spec key: standardize)"


def import_function(spec: str):
    """The function named by "module:function", the current folder first on the import path
    (as gunicorn and uvicorn find "module:app").

    Raises:
        InputError: not "module:function", or nothing importable by that name.
    """
    module_name, sep, name = spec.partition(":")
    if not sep or not module_name or not name:
        raise InputError(f"standardize {spec!r}: write module:function")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise InputError(f"standardize {spec!r}: cannot import {module_name!r} ({e})") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise InputError(f"standardize {spec!r}: {module_name} has no function {name!r}")
    return function


def load(path: str | Path, standardize: str | None = None):
    """The saved model, uncompiled.

    Raises:
        MissingInput: no such file.
        InputError: not a Keras model, or it names a custom function that was not given.
    """
    path = Path(path)
    if not path.exists():
        raise MissingInput(f"{path}: no such file")
    if path.is_file() and not _looks_like_a_model(path):  # refused before TensorFlow loads
        raise InputError(f"{path}: {_why('')}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    custom = {}
    if standardize is not None:
        function = import_function(standardize)
        # Keras looks a function up by its registered name ("Custom>name" under
        # @register_keras_serializable) or by its bare name (custom_objects).
        for key in (function.__name__, f"Custom>{function.__name__}",
                    keras.saving.get_registered_name(function)):
            custom[key] = function
    try:
        return keras.saving.load_model(str(path), custom_objects=custom, compile=False)
    except _LOAD_ERRORS as e:
        raise InputError(f"{path}: {_why(str(e))}") from None


def _looks_like_a_model(path: Path) -> bool:
    """A .keras zip holding config.json, or an HDF5 file (Keras 2's .h5)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return "config.json" in z.namelist()
    with open(path, "rb") as f:
        return f.read(8) == b"\x89HDF\r\n\x1a\n"


def _why(message: str) -> str:
    """Keras's error (which quotes the whole model config) as one short reason."""
    missing = _NOT_FOUND.search(message)
    if missing and missing.group(1) == "function":
        return (f"the model uses the custom function {missing.group(2)!r}, which is not given; "
                f"name it with {OPTION}")
    if missing:
        return (f"the model uses the custom class {missing.group(2)!r}, which is not known here "
                "(Keras finds it once the module defining it is imported)")
    if "safe_mode" in message:
        return ("the model holds Python code (a Lambda layer), which Keras loads only from a "
                "trusted file with safe_mode=False; rebuild it without the Lambda")
    return "not a Keras model (a .keras file saved with model.save is expected)"


def layers(model):
    """Every layer, nested models' layers in place, in the model's order."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):  # a nested Sequential / Functional model
            yield from layers(layer)


def input_is_text(model) -> bool:
    return "string" in str(model.inputs[0].dtype)
