"""Read a safetensors header without torch, to check tensor names, dtypes and shapes cheaply."""

from __future__ import annotations

import struct
from pathlib import Path

from inferchain import untrusted_json
from inferchain.bundle.errors import TensorMismatch
from inferchain.bundle.manifest import TensorSpec

_MAX_HEADER = 100 * 1024 * 1024  # the format's own limit


def read_header(path: Path) -> dict[str, TensorSpec]:
    """Tensor name -> spec, from the file's JSON header; raises TensorMismatch if malformed."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        prefix = fh.read(8)
        if len(prefix) != 8:
            raise TensorMismatch(f"{path.name}: too short to be safetensors")
        (length,) = struct.unpack("<Q", prefix)
        if length > min(_MAX_HEADER, size - 8):
            raise TensorMismatch(f"{path.name}: header length {length} is out of range")
        try:
            header = untrusted_json.loads(fh.read(length), source=f"{path.name} header")
        except untrusted_json.UntrustedJsonError as exc:
            raise TensorMismatch(f"{path.name}: header is not JSON ({exc.reason})") from exc
    if not isinstance(header, dict):
        raise TensorMismatch(f"{path.name}: header is not a JSON object")
    data_size = size - 8 - length
    specs: dict[str, TensorSpec] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            begin, end = info["data_offsets"]
            spec = TensorSpec(dtype=info["dtype"], shape=tuple(info["shape"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TensorMismatch(f"{path.name}: bad entry for tensor {name!r}") from exc
        if not 0 <= begin <= end <= data_size:
            raise TensorMismatch(f"{path.name}: tensor {name!r} lies outside the file")
        specs[name] = spec
    return specs


def check_tensors(path: Path, declared: dict[str, TensorSpec], dtype_code: str) -> None:
    """The file's tensors must be exactly those declared, all floating ones in ``dtype_code``."""
    actual = read_header(path)
    if set(actual) != set(declared):
        extra = sorted(set(actual) - set(declared))
        missing = sorted(set(declared) - set(actual))
        raise TensorMismatch(f"{path.name}: unexpected tensors {extra}, missing tensors {missing}")
    for name, spec in declared.items():
        found = actual[name]
        if found.dtype != spec.dtype or found.shape != spec.shape:
            raise TensorMismatch(
                f"{path.name}: tensor {name!r} is {found.dtype}{list(found.shape)}, "
                f"manifest says {spec.dtype}{list(spec.shape)}"
            )
        if found.dtype.startswith(("F", "BF")) and found.dtype != dtype_code:
            raise TensorMismatch(
                f"{path.name}: tensor {name!r} is {found.dtype} but the bundle dtype is "
                f"{dtype_code}"
            )
