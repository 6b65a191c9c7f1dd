"""Where streamed reply bodies go: size-capped, verified against the CID as they arrive."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from inferchain.ipfs.cid import Cid
from inferchain.ipfs.errors import CidMismatch, IpfsTooLarge
from inferchain.ipfs.unixfs import Verifier


class _Capped:
    def __init__(self, max_size: int) -> None:
        if max_size < 0:
            raise ValueError("max_size must be >= 0")
        self.max_size = max_size
        self.received = 0

    def _count(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.max_size:
            raise IpfsTooLarge(self.max_size)


class ContentSink(_Capped):
    """Collects file content in memory; ``close`` verifies it and returns the bytes."""

    def __init__(self, expected: Cid, max_size: int) -> None:
        super().__init__(max_size)
        self._verifier = Verifier(expected)
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> None:
        self._count(chunk)
        self._verifier.update(chunk)
        self._buffer += chunk

    def close(self) -> bytes:
        self._verifier.verify()
        return bytes(self._buffer)


class FileSink(_Capped):
    """Streams file content to a temporary file beside ``dest``; renamed only once verified.

    A failed or interrupted download therefore never leaves bytes at ``dest``.
    """

    def __init__(self, expected: Cid, max_size: int, dest: Path) -> None:
        super().__init__(max_size)
        self._verifier = Verifier(expected)
        self._dest = dest
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        self._tmp = Path(name)
        self._file: BinaryIO = os.fdopen(fd, "wb")

    def feed(self, chunk: bytes) -> None:
        self._count(chunk)
        self._verifier.update(chunk)
        self._file.write(chunk)

    def close(self) -> Path:
        self._file.close()
        self._verifier.verify()
        os.replace(self._tmp, self._dest)
        return self._dest

    def discard(self) -> None:
        """Remove the partial file (called whatever went wrong)."""
        self._file.close()
        self._tmp.unlink(missing_ok=True)


class BlockSink(_Capped):
    """Collects one raw block; ``close`` checks it hashes to the CID's digest."""

    def __init__(self, expected: Cid, max_size: int) -> None:
        super().__init__(max_size)
        self._expected = expected
        self._sha = hashlib.sha256()
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> None:
        self._count(chunk)
        self._sha.update(chunk)
        self._buffer += chunk

    def close(self) -> bytes:
        digest = self._sha.digest()
        if digest != self._expected.digest:
            actual = Cid(self._expected.version, self._expected.codec, digest)
            raise CidMismatch(self._expected, actual, " (block)")
        return bytes(self._buffer)
