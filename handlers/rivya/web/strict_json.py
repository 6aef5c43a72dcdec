"""JSON request bodies held to what every part of the service can store and compute with.

Python's `json` accepts things that fail far from the door: `NaN`, `Infinity` and numbers such
as `1e400` that overflow to infinity (they pass schema bounds, since every comparison with NaN is
false, and break pricing or reach a model), integers of thousands of digits (a `ValueError` past
Python's 4,300-digit conversion limit, a database overflow below it), nesting deep enough to
exhaust the recursion limit, and strings that hold a lone surrogate (UTF-8 cannot encode it, so
saving fails) or NUL (PostgreSQL text cannot hold it). Here they are refused while parsing, before
any work, as a 400 `invalid_json` problem.

Cost: numbers are checked by the parser's own callbacks; the walk over the parsed value, which
finds over-deep nesting and bad strings, runs only when a scan of the raw text (at C speed) says
it could find something: more brackets than the depth limit, or a `\\u0000` or `\\uD800`-`\\uDFFF`
escape (the only ways to write NUL or a surrogate in valid JSON text).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from rivya.web.problems import ApiProblem

MAX_DEPTH = 64
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# The longest literal of an integer in range ("-9223372036854775808"), so that a long run of
# digits is refused before Python converts it (quadratic in the number of digits).
_MAX_INT_CHARS = 20

# What could decode to NUL or a surrogate: the only ways to write them in JSON text are escapes.
# A false hit (a surrogate pair, as clients that escape all non-ASCII text send every emoji, or an
# escaped backslash before "u0000") costs a walk over the parsed strings, which decides exactly.
_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
# Characters no stored text may hold.
BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
# A reason and where: the path from the innermost step out.
Fault = tuple[str, list[str | int]]


def invalid_json(detail: str) -> ApiProblem:
    """The problem of a body this parser refuses."""
    return ApiProblem(400, "invalid_json", detail)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise invalid_json(f"The number {literal[:40]} is too large: numbers must be finite.")
    return value


def _bounded_int(literal: str) -> int:
    if len(literal) <= _MAX_INT_CHARS:
        value = int(literal)
        if INT_MIN <= value <= INT_MAX:
            return value
    raise invalid_json(
        f"The integer {literal[:24]}{'…' if len(literal) > 24 else ''} is out of range: "
        "integers must fit in 64 bits (-2^63 to 2^63-1)."
    )


def _no_constant(name: str) -> Any:
    raise invalid_json(f"{name} is not a number JSON allows: numbers must be finite.")


def loads(text: str) -> Any:
    """The value of the JSON `text`, or a 400 `invalid_json` problem saying what is wrong (and,
    for nesting and strings, where)."""
    try:
        value = json.loads(
            text,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        raise invalid_json(f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise invalid_json(f"The body nests deeper than {MAX_DEPTH} levels.") from None
    deep = text.count("[") + text.count("{") > MAX_DEPTH
    risky_text = _RISKY_ESCAPE.search(text) is not None
    fault: Fault | None = None
    if isinstance(value, (dict, list)) and (deep or risky_text):
        fault = _fault(value, 0, risky_text)
    elif isinstance(value, str) and risky_text:
        fault = _text_fault(value)
    if fault is not None:
        reason, path = fault
        raise invalid_json(f"{reason} at {_render(path)}.")
    return value


def _fault(container: dict[str, Any] | list[Any], depth: int, check_text: bool) -> Fault | None:
    """What is wrong in `container` (at `depth`) and where (the path reversed), checking strings
    only when asked. Scalars are skipped without a call: this runs on large bodies."""
    if depth == MAX_DEPTH:
        return f"The body nests deeper than {MAX_DEPTH} levels", []
    items: Any = container.items() if isinstance(container, dict) else enumerate(container)
    for key, item in items:
        if check_text and isinstance(key, str):
            fault = _text_fault(key)
            if fault is not None:
                return f"{fault[0]} (in a key)", [key]
        if isinstance(item, (dict, list)):
            fault = _fault(item, depth + 1, check_text)
        elif check_text and isinstance(item, str):
            fault = _text_fault(item)
        else:
            continue
        if fault is not None:
            fault[1].append(key)
            return fault
    return None


def _text_fault(text: str) -> Fault | None:
    match = BAD_CHAR.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "Text cannot contain NUL (\\u0000)", []
    return "Text cannot contain a lone surrogate (\\ud800-\\udfff) that is not half of a pair", []


def _render(reversed_path: list[str | int]) -> str:
    """A JSONPath such as `$.messages[0].name`."""
    parts = ["$"]
    for key in reversed(reversed_path):
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif key.isidentifier():
            parts.append(f".{key}")
        else:
            parts.append(f"[{json.dumps(key)}]")
    return "".join(parts)
