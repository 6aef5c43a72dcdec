"""Domain errors. They carry a stable code and a message for people, never an HTTP status: the api
layer maps each class to a status in one table (rivya.api.problems)."""

from __future__ import annotations


class RivyaError(Exception):
    """Base of every domain error."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(RivyaError):
    """No such object, or not one the caller may see."""

    code = "not_found"


class InvalidRequest(RivyaError):
    """Input that is well-formed but not acceptable."""

    code = "invalid_request"


class AuthenticationFailed(RivyaError):
    """The API key is missing or unusable; `code` says how."""

    code = "invalid_api_key"


class InsufficientCredits(RivyaError):
    """The wallet's available credits do not cover a reservation."""

    code = "insufficient_credits"

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"This request needs {needed} credits; {available} are available.")
        self.needed = needed
        self.available = available


class Conflict(RivyaError):
    """The object's state forbids the operation."""

    code = "conflict"


class PayloadTooLarge(RivyaError):
    """A body or an upload over its size limit."""

    code = "payload_too_large"


class UnsupportedMediaType(RivyaError):
    """An upload that is not an image, audio or video type the API accepts."""

    code = "unsupported_file_type"


class ModelUnavailable(RivyaError):
    """The model failed to answer (not the caller's fault; nothing was charged)."""

    code = "model_unavailable"
