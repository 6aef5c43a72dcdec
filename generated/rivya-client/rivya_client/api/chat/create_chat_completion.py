from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.chat_completion import ChatCompletion
from ...models.chat_completion_request import ChatCompletionRequest
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: ChatCompletionRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/chat/completions",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ChatCompletion | Problem | None:
    if response.status_code == 200:
        response_200 = ChatCompletion.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 402:
        response_402 = Problem.from_dict(response.json())

        return response_402

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 502:
        response_502 = Problem.from_dict(response.json())

        return response_502

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ChatCompletion | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ChatCompletionRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[ChatCompletion | Problem]:
    """Hold a chat turn

     OpenAI's Chat Completions wire format: point an OpenAI SDK at `…/api/v1` and it works.
    Rivya adds `session_id`: with it the turn continues that server-side session (its stored
    messages come first); without it a new session is made. Either way the answer carries
    the session's id in `session_id` and in the `X-Rivya-Session-Id` header. A new session
    is saved with its first turn: when that turn fails, or its stream is cut before the model
    produced anything, nothing is saved and the id names no session (404).

    Credits: before the model is called, the worst case is reserved (the estimated prompt
    tokens plus `max_tokens`, default 1024, at the model's prices); without enough credits
    the answer is 402 and the model is not called. When the answer is saved, its actual usage
    is charged and the rest released; a failed turn is charged nothing and saves nothing (not
    even a new session).

    With `stream: true` the answer is `text/event-stream`: `data: {chat.completion.chunk}`
    events, then `data: [DONE]`. `stream_options.include_usage` adds a last chunk with
    `choices: []` and the usage. `: keep-alive` comments flow while the model has not
    answered. An error after the stream started comes as a `data: {"error": {…}}` event. A
    client that disconnects stops the model and is charged at once for what was produced
    (nothing, when it leaves before the first token).

    Image content parts must name an uploaded image file:
    `{"type": "image_url", "image_url": {"url": "rivya://files/file_…", "detail": "auto"}}`;
    other URLs and `data:` URLs are refused (upload them with `POST /files`). A turn may
    attach at most 10 images (422 `too_many_images` beyond; the operator's setting may differ);
    the model is sent the conversation's newest images up to that many, earlier ones as a
    note. Each image is sent no larger than the model looks at it and priced by OpenAI's rule:
    `detail: low` costs 85 prompt tokens; `high` and `auto` scale the image to fit 2048 × 2048,
    then to a shortest side of 768, and cost 85 tokens plus 170 per 512-pixel tile (a
    1024 × 1024 image: 765 tokens). Not supported, and refused rather than ignored: `n` above
    1, `logprobs`, `audio` output.

    Args:
        idempotency_key (str | Unset):
        body (ChatCompletionRequest): A chat turn, in OpenAI's Chat Completions format, plus
            `session_id`. Parameters this
            API does not know are refused (400), not ignored.
             Example: {'model': 'rivya-chat-dev', 'messages': [{'role': 'user', 'content': 'Write a
            haiku about foxes.'}], 'max_tokens': 64}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChatCompletion | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ChatCompletionRequest,
    idempotency_key: str | Unset = UNSET,
) -> ChatCompletion | Problem | None:
    """Hold a chat turn

     OpenAI's Chat Completions wire format: point an OpenAI SDK at `…/api/v1` and it works.
    Rivya adds `session_id`: with it the turn continues that server-side session (its stored
    messages come first); without it a new session is made. Either way the answer carries
    the session's id in `session_id` and in the `X-Rivya-Session-Id` header. A new session
    is saved with its first turn: when that turn fails, or its stream is cut before the model
    produced anything, nothing is saved and the id names no session (404).

    Credits: before the model is called, the worst case is reserved (the estimated prompt
    tokens plus `max_tokens`, default 1024, at the model's prices); without enough credits
    the answer is 402 and the model is not called. When the answer is saved, its actual usage
    is charged and the rest released; a failed turn is charged nothing and saves nothing (not
    even a new session).

    With `stream: true` the answer is `text/event-stream`: `data: {chat.completion.chunk}`
    events, then `data: [DONE]`. `stream_options.include_usage` adds a last chunk with
    `choices: []` and the usage. `: keep-alive` comments flow while the model has not
    answered. An error after the stream started comes as a `data: {"error": {…}}` event. A
    client that disconnects stops the model and is charged at once for what was produced
    (nothing, when it leaves before the first token).

    Image content parts must name an uploaded image file:
    `{"type": "image_url", "image_url": {"url": "rivya://files/file_…", "detail": "auto"}}`;
    other URLs and `data:` URLs are refused (upload them with `POST /files`). A turn may
    attach at most 10 images (422 `too_many_images` beyond; the operator's setting may differ);
    the model is sent the conversation's newest images up to that many, earlier ones as a
    note. Each image is sent no larger than the model looks at it and priced by OpenAI's rule:
    `detail: low` costs 85 prompt tokens; `high` and `auto` scale the image to fit 2048 × 2048,
    then to a shortest side of 768, and cost 85 tokens plus 170 per 512-pixel tile (a
    1024 × 1024 image: 765 tokens). Not supported, and refused rather than ignored: `n` above
    1, `logprobs`, `audio` output.

    Args:
        idempotency_key (str | Unset):
        body (ChatCompletionRequest): A chat turn, in OpenAI's Chat Completions format, plus
            `session_id`. Parameters this
            API does not know are refused (400), not ignored.
             Example: {'model': 'rivya-chat-dev', 'messages': [{'role': 'user', 'content': 'Write a
            haiku about foxes.'}], 'max_tokens': 64}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChatCompletion | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ChatCompletionRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[ChatCompletion | Problem]:
    """Hold a chat turn

     OpenAI's Chat Completions wire format: point an OpenAI SDK at `…/api/v1` and it works.
    Rivya adds `session_id`: with it the turn continues that server-side session (its stored
    messages come first); without it a new session is made. Either way the answer carries
    the session's id in `session_id` and in the `X-Rivya-Session-Id` header. A new session
    is saved with its first turn: when that turn fails, or its stream is cut before the model
    produced anything, nothing is saved and the id names no session (404).

    Credits: before the model is called, the worst case is reserved (the estimated prompt
    tokens plus `max_tokens`, default 1024, at the model's prices); without enough credits
    the answer is 402 and the model is not called. When the answer is saved, its actual usage
    is charged and the rest released; a failed turn is charged nothing and saves nothing (not
    even a new session).

    With `stream: true` the answer is `text/event-stream`: `data: {chat.completion.chunk}`
    events, then `data: [DONE]`. `stream_options.include_usage` adds a last chunk with
    `choices: []` and the usage. `: keep-alive` comments flow while the model has not
    answered. An error after the stream started comes as a `data: {"error": {…}}` event. A
    client that disconnects stops the model and is charged at once for what was produced
    (nothing, when it leaves before the first token).

    Image content parts must name an uploaded image file:
    `{"type": "image_url", "image_url": {"url": "rivya://files/file_…", "detail": "auto"}}`;
    other URLs and `data:` URLs are refused (upload them with `POST /files`). A turn may
    attach at most 10 images (422 `too_many_images` beyond; the operator's setting may differ);
    the model is sent the conversation's newest images up to that many, earlier ones as a
    note. Each image is sent no larger than the model looks at it and priced by OpenAI's rule:
    `detail: low` costs 85 prompt tokens; `high` and `auto` scale the image to fit 2048 × 2048,
    then to a shortest side of 768, and cost 85 tokens plus 170 per 512-pixel tile (a
    1024 × 1024 image: 765 tokens). Not supported, and refused rather than ignored: `n` above
    1, `logprobs`, `audio` output.

    Args:
        idempotency_key (str | Unset):
        body (ChatCompletionRequest): A chat turn, in OpenAI's Chat Completions format, plus
            `session_id`. Parameters this
            API does not know are refused (400), not ignored.
             Example: {'model': 'rivya-chat-dev', 'messages': [{'role': 'user', 'content': 'Write a
            haiku about foxes.'}], 'max_tokens': 64}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChatCompletion | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ChatCompletionRequest,
    idempotency_key: str | Unset = UNSET,
) -> ChatCompletion | Problem | None:
    """Hold a chat turn

     OpenAI's Chat Completions wire format: point an OpenAI SDK at `…/api/v1` and it works.
    Rivya adds `session_id`: with it the turn continues that server-side session (its stored
    messages come first); without it a new session is made. Either way the answer carries
    the session's id in `session_id` and in the `X-Rivya-Session-Id` header. A new session
    is saved with its first turn: when that turn fails, or its stream is cut before the model
    produced anything, nothing is saved and the id names no session (404).

    Credits: before the model is called, the worst case is reserved (the estimated prompt
    tokens plus `max_tokens`, default 1024, at the model's prices); without enough credits
    the answer is 402 and the model is not called. When the answer is saved, its actual usage
    is charged and the rest released; a failed turn is charged nothing and saves nothing (not
    even a new session).

    With `stream: true` the answer is `text/event-stream`: `data: {chat.completion.chunk}`
    events, then `data: [DONE]`. `stream_options.include_usage` adds a last chunk with
    `choices: []` and the usage. `: keep-alive` comments flow while the model has not
    answered. An error after the stream started comes as a `data: {"error": {…}}` event. A
    client that disconnects stops the model and is charged at once for what was produced
    (nothing, when it leaves before the first token).

    Image content parts must name an uploaded image file:
    `{"type": "image_url", "image_url": {"url": "rivya://files/file_…", "detail": "auto"}}`;
    other URLs and `data:` URLs are refused (upload them with `POST /files`). A turn may
    attach at most 10 images (422 `too_many_images` beyond; the operator's setting may differ);
    the model is sent the conversation's newest images up to that many, earlier ones as a
    note. Each image is sent no larger than the model looks at it and priced by OpenAI's rule:
    `detail: low` costs 85 prompt tokens; `high` and `auto` scale the image to fit 2048 × 2048,
    then to a shortest side of 768, and cost 85 tokens plus 170 per 512-pixel tile (a
    1024 × 1024 image: 765 tokens). Not supported, and refused rather than ignored: `n` above
    1, `logprobs`, `audio` output.

    Args:
        idempotency_key (str | Unset):
        body (ChatCompletionRequest): A chat turn, in OpenAI's Chat Completions format, plus
            `session_id`. Parameters this
            API does not know are refused (400), not ignored.
             Example: {'model': 'rivya-chat-dev', 'messages': [{'role': 'user', 'content': 'Write a
            haiku about foxes.'}], 'max_tokens': 64}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChatCompletion | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
