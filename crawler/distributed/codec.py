"""JSON for what crosses Redis: dataclasses, bytes and odd mappings to plain values and back.

Not pickle (scrapy-redis's default): whoever can write to that Redis could otherwise run code
on every crawler and on the writer.
"""

from __future__ import annotations

import base64
import json
import types
from collections import Counter
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it: dataclasses as objects, bytes in base64, mappings with
    keys that are not strings as pairs."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {k: plain(v) for k, v in value.items()}
        return {"$pairs": [[plain(k), plain(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def unplain(value: Any) -> Any:
    """What :func:`plain` made, back (as lists and dicts where no type says otherwise)."""
    if isinstance(value, dict):
        if "$bytes" in value:
            return base64.b64decode(value["$bytes"])
        if "$pairs" in value:
            return {unplain(k): unplain(v) for k, v in value["$pairs"]}
        return {k: unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unplain(v) for v in value]
    return value


def build(hint: Any, data: Any) -> Any:
    """An instance of the type ``hint`` (a dataclass, or a container of them) from
    :func:`plain`'s output."""
    if data is None:
        return None
    origin = get_origin(hint)
    if is_dataclass(hint) and isinstance(hint, type):
        hints = get_type_hints(hint)
        return hint(**{f.name: build(hints[f.name], data[f.name]) for f in fields(hint)})
    if origin in (Union, types.UnionType):
        return build(next(a for a in get_args(hint) if a is not type(None)), data)
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(build(args[0], v) for v in data)
        return tuple(build(a, v) for a, v in zip(args, data, strict=True))
    if origin in (dict, Counter):
        return origin({k: build(get_args(hint)[-1], v) for k, v in data.items()})
    return data


class RequestCodec:
    """scrapy-redis's serializer for the frontier: Scrapy's request dicts as JSON."""

    @staticmethod
    def dumps(request: dict[str, Any]) -> str:
        return json.dumps(plain(request), ensure_ascii=False)

    @staticmethod
    def loads(text: bytes | str) -> dict[str, Any]:
        result: dict[str, Any] = unplain(json.loads(text))
        return result
