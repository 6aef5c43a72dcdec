"""The provider interface that the generation worker calls.

A provider gets a validated input and returns the media it made. It raises ProviderError for a
failure, saying whether a retry could help; its message is for logs only, since upstream names,
URLs and error texts must never reach a public response (the worker shows `public_message`).
Cancellation is asyncio cancellation: a provider that started remote work cancels it there
before letting CancelledError propagate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Reference:
    """An uploaded file that the input points at (by `file_…` id), read for the provider."""

    file_id: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class GenerationRequest:
    """What to make."""

    task_id: str
    model_id: str  # the public model id
    kind: str  # image | video | audio
    input: dict[str, Any]  # validated against the model's parameter schema, defaults applied
    options: dict[str, Any] = field(default_factory=dict)  # the catalog's private provider options
    references: dict[str, Reference] = field(default_factory=dict)  # input field -> file


@dataclass(frozen=True)
class Output:
    """One produced file. Only its bytes: what they are is read from them when the task stores
    them (`rivya.files.service.inspect_output`), never taken on a provider's or upstream's word."""

    data: bytes


class ProviderError(Exception):
    """The provider failed. `retryable`: a later attempt may succeed (timeouts, 5xx, 429)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: str = "generation_failed",
        public_message: str = "The model could not complete this generation.",
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.public_message = public_message


class Provider(Protocol):
    """Makes media for one kind of model."""

    async def generate(self, request: GenerationRequest) -> list[Output]:
        """Make the outputs, or raise ProviderError."""
        ...

    async def aclose(self) -> None:
        """Release connections and other resources."""
        ...
