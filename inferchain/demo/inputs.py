"""The demo user's job inputs: prompts, a handwritten digit (PNG), reviews, a chat."""

from __future__ import annotations

import io
import json

#: Sample 3 of scikit-learn's 8x8 digits (UCI data, CC BY 4.0): a handwritten "3",
#: grey levels 0..16.
DIGIT_3 = (
    (0, 0, 7, 15, 13, 1, 0, 0),
    (0, 8, 13, 6, 15, 4, 0, 0),
    (0, 2, 1, 13, 13, 0, 0, 0),
    (0, 0, 2, 15, 11, 1, 0, 0),
    (0, 0, 0, 1, 12, 12, 1, 0),
    (0, 0, 0, 0, 1, 10, 8, 0),
    (0, 0, 8, 4, 5, 14, 9, 0),
    (0, 0, 7, 13, 13, 9, 0, 0),
)

PROMPT = {"prompt": "The woods are lovely, dark and deep,", "max_new_tokens": 24}
REVIEW = "a wonderful, moving film with a brilliant cast"
CLI_PROMPT = "Four score and seven years ago"
CLI_REVIEW = "a dull, tedious plot and wooden acting"
#: For ``tiny-llama``, through its chat template; it learnt to recite its corpus's openings.
CHAT = {"messages": [{"role": "user", "content": "Recite The Tyger."}], "max_new_tokens": 40}


def digit_png() -> bytes:
    """The digit as an 8x8 greyscale PNG, the way a user would upload a picture."""
    from PIL import Image

    image = Image.new("L", (8, 8))
    image.putdata([round(v * 255 / 16) for row in DIGIT_3 for v in row])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def digit_file() -> bytes:
    """The digit as the ZK tier's input file: 64 bytes, one grey level per byte, row-major
    (the circuit's public inputs; docs/verification.md)."""
    return bytes(v for row in DIGIT_3 for v in row)


def review_json(text: str = REVIEW) -> bytes:
    return json.dumps({"text": text}).encode()
