"""Which methods each path of the spec allows, for the `Allow` header of a 405.

Connexion registers one route per operation, so when a method is refused, Starlette's router
reports only the methods of the first route whose path matched, not all of the path's methods.
"""

from __future__ import annotations

import re
from typing import Any

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class AllowIndex:
    """Path templates of the spec, compiled, with their methods."""

    def __init__(self, spec: dict[str, Any], base_path: str) -> None:
        self._routes: list[tuple[re.Pattern[str], str]] = []
        for template, item in spec.get("paths", {}).items():
            methods = sorted(m.upper() for m in item if m in _METHODS)
            if "GET" in methods:
                methods = sorted([*methods, "HEAD"])
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(base_path + template))
            self._routes.append((re.compile(pattern), ", ".join(methods)))

    def allow(self, path: str) -> str | None:
        """The `Allow` value for a request path, or None when no path of the spec matches."""
        for pattern, methods in self._routes:
            if pattern.fullmatch(path):
                return methods
        return None
