"""Schemathesis hooks for the conformance run (loaded through SCHEMATHESIS_HOOKS by run.py).

The contract's rules for JSON bodies (info.description, "JSON bodies": integers within 64 bits, no
NUL or lone surrogate in any text, at most 64 levels) hold for every value, including those in
free-form objects such as a generation's `input`, where JSON Schema cannot state them. Schemathesis
generates such values as schema-valid data, and the server refuses them with a 400
`invalid_json`. That refusal is the contract, not a failure: it is dropped, but only when the
body really breaks one of those rules, as the server's own parser decides.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

from rivya.web import strict_json
from rivya.web.problems import ApiProblem


def _breaks_the_json_rules(body: Any) -> bool:
    try:
        strict_json.loads(json.dumps(body))
    except ApiProblem:
        return True
    except (TypeError, ValueError):  # not a JSON body at all
        return False
    return False


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but a 400 `invalid_json` for a body that breaks the JSON rules."""
    if response.status_code != 400:
        return True
    try:
        code = response.json().get("code")
    except ValueError:
        return True
    return not (code == "invalid_json" and _breaks_the_json_rules(case.body))
