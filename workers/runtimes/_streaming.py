"""What a generation runtime may stream of its text so far: shared by ``inferchain-gpt`` and
``hf-transformers``."""

from __future__ import annotations

from collections.abc import Sequence


def settled_piece(text: str, stops: Sequence[str], streamed: int) -> tuple[str, int]:
    """(the text past ``streamed`` that no later token can change, where it ends).

    An incomplete UTF-8 character at the end waits, and so does the longest tail that could
    still grow into a stop string: a streamed piece is never taken back."""
    end = len(text.rstrip("\ufffd"))
    held = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, end), held, -1):
            if text[end - size : end] == stop[:size]:
                held = size
                break
    end -= held
    if end <= streamed:
        return "", streamed
    return text[streamed:end], end
