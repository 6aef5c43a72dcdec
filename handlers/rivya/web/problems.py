"""Every error as application/problem+json (RFC 9457) with a stable `code` and the `request_id`.

Domain errors carry no HTTP status; STATUS_OF is the one table that maps them. Connexion's own
problems (validation, security, routing) and anything unexpected are rendered the same way, so a
client sees one error shape whatever failed.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from rivya import errors
from rivya.web.request_context import SCOPE_KEY, current_request_id

log = logging.getLogger("rivya.errors")
PROBLEM_JSON = "application/problem+json"

STATUS_OF: dict[type[errors.RivyaError], int] = {
    errors.AuthenticationFailed: 401,
    errors.InsufficientCredits: 402,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.ModelUnavailable: 502,
    errors.RivyaError: 422,  # InvalidRequest, FileRejected and any other refusal of input
}

CODE_OF_STATUS = {
    400: "invalid_request",
    401: "missing_api_key",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

# Connexion's security layer raises these with fixed texts; give each its own code and a detail
# that says what to send.
_CONNEXION_AUTH_DETAILS = {
    "No authorization token provided": (
        "missing_api_key",
        "Send your API key as 'Authorization: Bearer rvya_sk_…'.",
    ),
    "Invalid authorization header": (
        "malformed_api_key",
        "The Authorization header must be 'Bearer' followed by your API key.",
    ),
}


class ApiProblem(ProblemException):  # type: ignore[misc]
    """A problem with a stable code, raised where connexion expects a ProblemException (for
    example from a security function)."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(
            status=status, title=HTTPStatus(status).phrase, detail=detail, headers=headers
        )
        self.code = code


def problem_body(status: int, code: str, detail: str, title: str | None = None) -> dict[str, Any]:
    """The problem document."""
    return {
        "type": "about:blank",
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": current_request_id(),
    }


def domain_problem(exc: errors.RivyaError) -> tuple[int, dict[str, Any]]:
    """The status and problem document of a domain error."""
    status = next(s for cls, s in STATUS_OF.items() if isinstance(exc, cls))
    return status, problem_body(status, exc.code, exc.message)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
) -> ConnexionResponse:
    """The problem response itself."""
    body = problem_body(status, code, detail, title)
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="rivya"')
    return ConnexionResponse(
        status_code=status,
        mimetype=PROBLEM_JSON,
        body=json.dumps(body).encode("utf-8"),
        headers=headers,
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def domain_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """A RivyaError raised by a service."""
    assert isinstance(exc, errors.RivyaError)
    status, body = domain_problem(exc)
    return problem(status, body["code"], body["detail"])


async def connexion_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """A ProblemException: ours (with a code) or connexion's (validation, security)."""
    assert isinstance(exc, ProblemException)
    status = int(exc.status)
    detail = str(exc.detail or exc.title or _phrase(status))
    code = getattr(exc, "code", None)
    if not isinstance(code, str):
        code, detail = _CONNEXION_AUTH_DETAILS.get(
            detail, (CODE_OF_STATUS.get(status, "error"), detail)
        )
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() != "content-type"}
    return problem(status, code, detail, headers=headers)


async def http_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """A Starlette HTTPException (routing: unknown path, method not allowed)."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    detail = exc.detail if exc.detail and exc.detail != _phrase(status) else _default_detail(status)
    headers = dict(exc.headers or {})
    runtime = request.scope.get(SCOPE_KEY)
    if status == 405 and runtime is not None:
        headers["Allow"] = runtime.allow_index.allow(request.scope["path"]) or headers.get(
            "Allow", ""
        )
    return problem(status, CODE_OF_STATUS.get(status, "error"), detail, headers=headers)


async def bad_encoding(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """A request body that is not valid UTF-8 (connexion would answer 500)."""
    return problem(400, "invalid_request", "The request body is not valid UTF-8.")


async def unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Anything else: logged with its traceback, answered without one."""
    log.error("unhandled error", exc_info=exc)
    return problem(
        500,
        "internal_error",
        "Something went wrong on our side; retry later and quote the request id if it persists.",
    )


def _default_detail(status: int) -> str:
    if status == 404:
        return "No such resource. See GET /api/v1/openapi.json for the operations."
    if status == 405:
        return "This resource does not allow that method; the Allow header lists those it does."
    return _phrase(status)


def register(app: Any) -> None:
    """Install the handlers on a connexion app."""
    app.add_error_handler(errors.RivyaError, domain_error)
    app.add_error_handler(ProblemException, connexion_problem)
    app.add_error_handler(HTTPException, http_error)
    app.add_error_handler(UnicodeDecodeError, bad_encoding)
    app.add_error_handler(Exception, unexpected)
