"""The strict JSON parser refuses exactly the text no store can hold, however it is escaped."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rivya.web import strict_json
from rivya.web.problems import ApiProblem

# Text heavy in what matters here: surrogates (paired or not), NUL, backslashes and 'u'.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(["\x00", "\\", "u", "d", "8", "0", "a", "😀", "é"]),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
        st.characters(),
    ),
    max_size=12,
)


@given(st.lists(TEXT, max_size=4), st.booleans())
def test_text_is_refused_exactly_when_it_holds_nul_or_a_lone_surrogate(
    texts: list[str], as_key: bool
) -> None:
    value = {t: 1 for t in texts} if as_key else texts
    bad = any(strict_json.BAD_CHAR.search(t) for t in texts)
    # Clients that escape all non-ASCII text write pairs as two escapes; both forms must agree.
    for text in (json.dumps(value), _escape_pairs_only(value)):
        if bad:
            with pytest.raises(ApiProblem) as refused:
                strict_json.loads(text)
            assert refused.value.code == "invalid_json"
        else:
            assert strict_json.loads(text) == value


def _escape_pairs_only(value: object) -> str:
    """JSON with non-ASCII text written raw, except surrogates (which UTF-8 cannot carry)."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("[1.5e308, -9223372036854775808, 9223372036854775807]", True),
        ("9223372036854775808", False),
        ("-9223372036854775809", False),
        ("1e309", False),
        ("[NaN]", False),
        ("-Infinity", False),
        ("1e-400", True),
    ],
)
def test_numbers(text: str, accepted: bool) -> None:
    if accepted:
        assert strict_json.loads(text) == json.loads(text)
    else:
        with pytest.raises(ApiProblem):
            strict_json.loads(text)


@pytest.mark.parametrize("depth", [1, 63, 64, 65, 500, 100_000])
def test_depth(depth: int) -> None:
    for text in ("[" * depth + "]" * depth, '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)):
        if depth <= strict_json.MAX_DEPTH:
            assert strict_json.loads(text) == json.loads(text)
        else:
            with pytest.raises(ApiProblem, match="deeper than 64"):
                strict_json.loads(text)


def test_the_detail_names_the_path() -> None:
    with pytest.raises(ApiProblem) as refused:
        strict_json.loads('{"messages": [{"role": "user"}, {"name": "\\udc00x"}]}')
    assert "$.messages[1].name" in str(refused.value.detail)
