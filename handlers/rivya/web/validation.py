"""Connexion's parameter validator, with messages that name the parameter at fault.

Connexion reports a bad query parameter as jsonschema's full text ("0 is less than the minimum of
1", then the schema and the instance), which does not say which parameter was wrong. It also
refuses text that no database column can hold: NUL (PostgreSQL text cannot) and lone surrogates
(UTF-8 cannot), as the JSON body parser does (rivya.web.strict_json), so that a free-form query
parameter such as `model` cannot carry them into a query.
"""

from __future__ import annotations

import copy
from typing import Any

from connexion.utils import is_null, is_nullable
from connexion.validators import ParameterValidator
from jsonschema import Draft4Validator, ValidationError

from rivya.web.strict_json import BAD_CHAR


class NamingParameterValidator(ParameterValidator):  # type: ignore[misc]
    """Reports `'<name>' (<location>): <what is wrong>`."""

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        name = param_name or param.get("name", "?")
        if is_nullable(param) and is_null(value):
            return None
        if isinstance(value, str) and BAD_CHAR.search(value):
            return f"'{name}' ({parameter_type} parameter): text cannot hold NUL or lone surrogates"
        if value is not None:
            schema = copy.deepcopy(param.get("schema", param))
            try:
                checker = Draft4Validator.FORMAT_CHECKER
                Draft4Validator(schema, format_checker=checker).validate(value)
            except ValidationError as exc:
                return f"'{name}' ({parameter_type} parameter): {exc.message}"
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{name}'"
        return None
