"""Runtime ``inferchain-cnn``: image classification with top-k labels and probabilities.

Input, any of:
  * PNG or JPEG bytes (the job input file itself);
  * a JSON object ``{"image": "<base64 PNG/JPEG>", "top_k": 3}`` or ``{"array": [[...]]}``;
  * in Python, a numpy array or nested list, [H, W] or [C, H, W], values in [0, 1].
Images are converted to the configured mode and resized (bilinear) to the model's size.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from inferchain.bundle import Bundle, InvalidInput
from inferchain.bundle.limits import ImageLimits
from inferchain.worker.runtimes._classify import classify, read_labels
from inferchain.worker.runtimes._config import read_config
from inferchain.worker.runtimes._inputs import Params, parse_object
from inferchain.worker.runtimes._weights import load_weights
from inferchain.worker.runtimes.base import Output, model_info, pick_device, runtime_info
from inferchain.worker.runtimes.cnn import CNN, CNNConfig

_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


@dataclass(frozen=True)
class ImageRequest:
    pixels: np.ndarray  # float32 [C, H, W] in [0, 1]
    top_k: int


class ImageClassificationRuntime:
    name: ClassVar[str] = "inferchain-cnn"

    def __init__(self, bundle: Bundle, device: str | torch.device | None = None) -> None:
        self.bundle = bundle
        self.device = pick_device(device)
        config, self.config, self.limits = read_config(bundle, CNNConfig, ImageLimits)
        self.labels = read_labels(config, self.config.num_classes)
        self.model = load_weights(CNN(self.config), bundle, self.device)
        self._mode = "L" if self.config.in_channels == 1 else "RGB"
        self._model_info = model_info(bundle)
        self._runtime_info = runtime_info(self.name, self.device, bundle.manifest.dtype)

    def prepare(self, raw: object) -> ImageRequest:
        if isinstance(raw, bytes | bytearray | memoryview) and _sniff(bytes(raw[:8])):
            return ImageRequest(self._decode(bytes(raw)), self.limits.default_top_k)
        if isinstance(raw, np.ndarray | list):
            return ImageRequest(self._array(raw), self.limits.default_top_k)
        params = Params(parse_object(raw, max_bytes=self.limits.max_input_bytes))
        image, array = params.raw("image", None), params.raw("array", None)
        k = params.integer("top_k", self.limits.default_top_k, 1, self.config.num_classes)
        params.finish()
        if (image is None) == (array is None):
            raise InvalidInput("wrong_type", "give exactly one of 'image' (base64) or 'array'")
        if array is not None:
            return ImageRequest(self._array(array), k)
        if not isinstance(image, str):
            raise InvalidInput("wrong_type", "'image' must be a base64 string")
        try:
            data = base64.b64decode(image, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput("undecodable", "'image' is not valid base64") from exc
        return ImageRequest(self._decode(data), k)

    def run(self, batch: Sequence[ImageRequest]) -> list[Output]:
        return classify(
            batch, self.limits.max_batch_size, self._logits, self.labels, self._output, self.device
        )

    def _logits(self, chunk: Sequence[ImageRequest]) -> torch.Tensor:
        dtype = self.model.head[-1].weight.dtype
        pixels = torch.from_numpy(np.stack([r.pixels for r in chunk]))
        return self.model(pixels.to(device=self.device, dtype=dtype))

    def _output(self, result: dict[str, Any]) -> Output:
        return Output("image-classification", self._model_info, result, self._runtime_info)

    def _decode(self, data: bytes) -> np.ndarray:
        if len(data) > self.limits.max_input_bytes:
            raise InvalidInput(
                "oversize",
                f"image is {len(data)} bytes; the limit is {self.limits.max_input_bytes}",
            )
        kind = _sniff(data[:8])
        if kind is None:
            raise InvalidInput("undecodable", "not a PNG or JPEG image")
        try:
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                if image.width * image.height > self.limits.max_pixels:
                    raise InvalidInput(
                        "oversize",
                        f"image is {image.width}x{image.height}; at most "
                        f"{self.limits.max_pixels} pixels",
                    )
                image.load()
                converted = image.convert(self._mode)
        except InvalidInput:
            raise
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ) as exc:
            raise InvalidInput("undecodable", f"cannot decode the {kind} image: {exc}") from exc
        size = (self.config.width, self.config.height)
        if converted.size != size:
            converted = converted.resize(size, Image.Resampling.BILINEAR)
        pixels = np.asarray(converted, dtype=np.float32) / 255.0
        return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1).copy()

    def _array(self, value: Any) -> np.ndarray:
        cfg = self.config
        if isinstance(value, list) and len(json.dumps(value)) > self.limits.max_input_bytes:
            raise InvalidInput("oversize", "array input is larger than the input limit")
        try:
            array = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError, OverflowError) as exc:  # ragged, strings, 10**400
            raise InvalidInput("wrong_type", "array must be a rectangular grid of numbers") from exc
        if array.ndim == 2 and cfg.in_channels == 1:
            array = array[None]
        if array.shape != (cfg.in_channels, cfg.height, cfg.width):
            raise InvalidInput(
                "wrong_type",
                f"array shape {list(array.shape)}; expected "
                f"{[cfg.in_channels, cfg.height, cfg.width]} (or [H, W] for one channel)",
            )
        if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise InvalidInput("invalid_param", "array values must be finite and in [0, 1]")
        return array.astype(np.float32)


def _sniff(head: bytes) -> str | None:
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)
