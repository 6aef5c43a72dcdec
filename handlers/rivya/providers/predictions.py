"""A provider for asynchronous prediction APIs in the style of Replicate's: submit a prediction,
poll it until it ends, then download the files it made.

Options, besides those of `rivya.providers.http`:

- `model`: the upstream model, sent as "model" (required unless `version` is set).
- `version`: a model version, sent as "version" instead of "model".
- `poll_interval_s`: seconds between polls (default 1.0).
- `deadline_s`: seconds from submission until the prediction must have ended (default 600);
  past it the prediction is canceled upstream and the task fails retryably.

The links a prediction carries are the upstream's word: those to poll and cancel must stay on its
own origin, and output files are fetched as `Upstream.download` allows (`UpstreamLimits`).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from rivya.providers.base import GenerationRequest, Output, ProviderError
from rivya.providers.http import (
    Upstream,
    UpstreamLimits,
    number,
    read_json,
    required_str,
    unavailable,
    unusable,
)

log = logging.getLogger("rivya.providers")

_TERMINAL = frozenset({"succeeded", "failed", "canceled"})
# A cancel is a courtesy to the upstream's bill; it must not hold up the task's own ending.
_CANCEL_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class _Prediction:
    id: str
    status: str
    output: Any
    error: Any
    get_url: str
    cancel_url: str


def _parse(
    upstream: Upstream, response: httpx.Response, previous: _Prediction | None = None
) -> _Prediction:
    """A prediction from its JSON; links it lacks are taken from `previous` or derived, and
    those it has must be on the upstream's origin."""
    body = read_json(response)
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise unusable(f"{response.request.url}: not a prediction: {response.text[:300]!r}")
    ident = body["id"]
    links = body.get("urls")
    urls: dict[str, Any] = links if isinstance(links, dict) else {}
    get_url = urls.get("get") or (previous.get_url if previous else f"/v1/predictions/{ident}")
    cancel_url = urls.get("cancel") or (
        previous.cancel_url if previous else f"/v1/predictions/{ident}/cancel"
    )
    return _Prediction(
        id=ident,
        status=str(body.get("status")),
        output=body.get("output"),
        error=body.get("error"),
        get_url=upstream.own(str(get_url)),
        cancel_url=upstream.own(str(cancel_url)),
    )


def _urls(output: Any) -> list[str]:
    """The file links in an output: one link, or links nested in lists and objects."""
    if isinstance(output, str):
        return [output] if output.startswith(("https://", "http://")) else []
    if isinstance(output, list):
        return [url for item in output for url in _urls(item)]
    if isinstance(output, dict):
        return [url for item in output.values() for url in _urls(item)]
    return []


def _input(request: GenerationRequest) -> dict[str, Any]:
    """The input with each referenced file inlined as a data URI, since a `file_…` id means
    nothing upstream."""
    values = dict(request.input)
    for field, reference in request.references.items():
        encoded = base64.b64encode(reference.data).decode("ascii")
        values[field] = f"data:{reference.content_type};base64,{encoded}"
    return values


class PredictionsProvider:
    """Submits a prediction to POST {base_url}/v1/predictions and polls it to its end."""

    def __init__(self, options: Mapping[str, Any], limits: UpstreamLimits) -> None:
        if "version" in options:
            self._target = {"version": required_str(options, "version")}
        else:
            self._target = {"model": required_str(options, "model")}
        self._poll_interval_s = number(options, "poll_interval_s", 1.0)
        self._deadline_s = number(options, "deadline_s", 600.0)
        self._upstream = Upstream(options, limits)

    async def generate(self, request: GenerationRequest) -> list[Output]:
        """Run a prediction and download its outputs. A prediction still running when this is
        canceled, fails to poll or passes the deadline is canceled upstream."""
        deadline = asyncio.get_running_loop().time() + self._deadline_s
        try:
            async with asyncio.timeout_at(deadline):
                prediction = await self._submit(request)
        except TimeoutError as exc:
            raise self._late(request) from exc
        try:
            async with asyncio.timeout_at(deadline):
                prediction = await self._wait(prediction)
        except TimeoutError as exc:
            await self._cancel(prediction)
            raise self._late(request) from exc
        except (asyncio.CancelledError, ProviderError):
            await self._cancel(prediction)
            raise
        if prediction.status == "failed":
            raise ProviderError(
                f"prediction {prediction.id} of {self._target} failed: {prediction.error}",
                retryable=False,
            )
        if prediction.status == "canceled":
            raise ProviderError(
                f"prediction {prediction.id} of {self._target} was canceled upstream",
                retryable=False,
            )
        return await self._download(prediction)

    async def _submit(self, request: GenerationRequest) -> _Prediction:
        body = {**self._target, "input": _input(request)}
        response = await self._upstream.send("POST", "/v1/predictions", json=body)
        return _parse(self._upstream, response)

    async def _wait(self, prediction: _Prediction) -> _Prediction:
        while prediction.status not in _TERMINAL:
            await asyncio.sleep(self._poll_interval_s)
            response = await self._upstream.send("GET", prediction.get_url)
            prediction = _parse(self._upstream, response, prediction)
        return prediction

    async def _cancel(self, prediction: _Prediction) -> None:
        try:
            await self._upstream.send(
                "POST", prediction.cancel_url, timeout_s=_CANCEL_TIMEOUT_S, retry=False
            )
        except ProviderError as exc:
            log.warning("could not cancel prediction %s upstream: %s", prediction.id, exc)

    async def _download(self, prediction: _Prediction) -> list[Output]:
        urls = _urls(prediction.output)
        if not urls:
            raise unusable(
                f"prediction {prediction.id} succeeded without files: {prediction.output!r}"
            )
        return [Output(await self._upstream.download(url)) for url in urls]

    def _late(self, request: GenerationRequest) -> ProviderError:
        return unavailable(
            f"task {request.task_id}: {self._target} did not finish within {self._deadline_s} s"
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._upstream.aclose()
