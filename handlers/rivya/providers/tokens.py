"""A small deterministic tokenizer: the local chat model's own, and Rivya's estimate of the
prompt tokens of any conversation before a call (to reserve credits for it).

It is a regular expression, not a model's BPE vocabulary. tiktoken would be closer for OpenAI
models, but it downloads its encodings from the internet at run time, which servers here cannot
do; and an upstream's own usage report, when it sends one, settles the real count anyway.

A token is one of: a run of letters, a run of up to three digits, one other visible character
(punctuation, symbols), each optionally with the single space before it (as GPT tokenizers
attach it); or a run of whitespace otherwise. The tokens of a text joined give back the text.
Scripts written without spaces (Chinese, Japanese) count a whole run of letters as one token,
so their estimates run low.
"""

from __future__ import annotations

import re
from typing import Any

TOKENS_PER_MESSAGE = 4  # a message's role and delimiters, as OpenAI counts them
TOKENS_PER_REPLY = 3  # the priming of the assistant's reply
IMAGE_TOKENS = 85  # an image part, at the price OpenAI charges a low-detail image

_TOKEN = re.compile(
    r" ?[^\W\d_]+"  # letters
    r"| ?\d{1,3}"  # digits, in groups of three as GPT tokenizers split numbers
    r"| ?(?:[^\w\s]|_)"  # any other visible character, one at a time
    # Whitespace before a visible character stops one short of it, so that a space there
    # starts the next token, as in GPT tokenizers.
    r"|\s+(?!\S)|\s+"
)


def split_tokens(text: str) -> list[str]:
    """The tokens of `text`, in order; joined, they are `text`."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    """How many tokens `text` has."""
    return len(split_tokens(text))


def _content_tokens(content: Any, image_part_tokens: int) -> int:
    """The tokens of a message's content: a string, or a list of parts (text parts counted,
    each image part `image_part_tokens`, other parts nothing)."""
    if isinstance(content, str):
        return count_tokens(content)
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            total += count_tokens(part["text"])
        elif part.get("type") == "image_url":
            total += image_part_tokens
    return total


def _tool_call_tokens(tool_calls: Any) -> int:
    """The tokens of the tool calls an assistant message made: names and arguments."""
    if not isinstance(tool_calls, list):
        return 0
    total = 0
    for call in tool_calls:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            for key in ("name", "arguments"):
                if isinstance(function.get(key), str):
                    total += count_tokens(function[key])
    return total


def estimate_prompt_tokens(messages: list[dict[str, Any]], image_tokens: int | None = None) -> int:
    """The prompt tokens of a conversation in the Chat Completions shapes: TOKENS_PER_MESSAGE
    for each message plus its content, name and tool calls, then TOKENS_PER_REPLY. Image parts
    count `image_tokens` together, when their price is known (rivya.chat.images), else
    IMAGE_TOKENS each. Tool definitions sent beside the messages are not counted."""
    total = TOKENS_PER_REPLY if image_tokens is None else TOKENS_PER_REPLY + image_tokens
    per_image = IMAGE_TOKENS if image_tokens is None else 0
    for message in messages:
        total += TOKENS_PER_MESSAGE + _content_tokens(message.get("content"), per_image)
        if isinstance(message.get("name"), str):
            total += count_tokens(message["name"])
        total += _tool_call_tokens(message.get("tool_calls"))
    return total
