"""The model's frozen dataclasses as plain JSON values, and back, driven by their field types.

A dataclass becomes the list of its field values in field order; a tuple a list; bytes a
base64 string; str, int, float, bool and None stay as they are. Decoding checks nothing a
build could not have written itself: a value of the wrong shape raises ValueError, which
the state treats like a missing entry. Only the types the model uses are supported, so a
field of another type fails loudly when the class is first encoded.
"""
from __future__ import annotations

import base64
import dataclasses
import types
import typing
from collections.abc import Callable
from functools import cache

_SCALARS = (str, int, float, bool, type(None))


def encode(value):
    """A model value (a dataclass instance, a tuple, a scalar) as a JSON value."""
    if dataclasses.is_dataclass(value):
        return _encoder(type(value))(value)
    if isinstance(value, tuple):
        return [encode(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def decode(cls: type, data):
    """The instance of `cls` that `encode` gave `data` for; ValueError when it does not fit."""
    try:
        return _decoder(cls)(data)
    except (TypeError, IndexError, KeyError, AttributeError, base64.binascii.Error) as exc:
        raise ValueError(f"not a stored {cls.__name__}: {exc}") from None


@cache
def _encoder(cls: type) -> Callable:
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    converters = [_value_encoder(t) for t in _field_types(cls)]

    def run(obj):
        return [value if conv is None else conv(value)
                for value, conv in zip((getattr(obj, n) for n in names), converters)]
    return run


def _value_encoder(hint) -> Callable | None:
    """None where the value is stored as it is (scalars)."""
    origin = typing.get_origin(hint)
    if hint in _SCALARS:
        return None
    if hint is bytes:
        return lambda v: base64.b64encode(v).decode("ascii")
    if dataclasses.is_dataclass(hint):
        return _encoder(hint)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            inner = _value_encoder(args[0])
            return (lambda v: list(v)) if inner is None else (lambda v: [inner(x) for x in v])
        inners = [_value_encoder(a) for a in args]
        return lambda v: [x if f is None else f(x) for x, f in zip(v, inners)]
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            inner = _value_encoder(args[0])
            return None if inner is None else (lambda v: None if v is None else inner(v))
        if all(a in _SCALARS for a in args):
            return None
    raise TypeError(f"the codec cannot store a field of type {hint!r}")


@cache
def _decoder(cls: type) -> Callable:
    types_ = _field_types(cls)
    converters = [_value_decoder(t) for t in types_]
    count = len(types_)
    if all(c is None for c in converters):
        def run(data):
            if len(data) != count:
                raise TypeError("wrong number of fields")
            return cls(*data)
    else:
        def run(data):
            if len(data) != count:
                raise TypeError("wrong number of fields")
            return cls(*[value if conv is None else conv(value) for value, conv in zip(data, converters)])
    return run


def _value_decoder(hint) -> Callable | None:
    origin = typing.get_origin(hint)
    if hint in (str, bool, type(None)):
        return None
    if hint is int:
        return None
    if hint is float:
        return float
    if hint is bytes:
        return lambda v: base64.b64decode(v, validate=True)
    if dataclasses.is_dataclass(hint):
        return _decoder(hint)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            inner = _value_decoder(args[0])
            return tuple if inner is None else (lambda v: tuple(map(inner, v)))
        inners = [_value_decoder(a) for a in args]
        return lambda v: tuple(x if f is None else f(x) for x, f in zip(v, inners, strict=True))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            inner = _value_decoder(args[0])
            return None if inner is None else (lambda v: None if v is None else inner(v))
        if all(a in _SCALARS for a in args):
            return None
    raise TypeError(f"the codec cannot read a field of type {hint!r}")


def _field_types(cls: type) -> list:
    hints = typing.get_type_hints(cls)
    return [hints[f.name] for f in dataclasses.fields(cls) if f.init]
