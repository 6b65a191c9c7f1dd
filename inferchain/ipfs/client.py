"""Synchronous client for an IPFS node's RPC API (Kubo; js-ipfs serves the same API).

Nothing the node says about content is trusted: uploads are hashed locally and must get
the same CID back, and every byte read back is verified against the CID it was asked for
(:class:`~inferchain.ipfs.errors.CidMismatch` otherwise). Operations live in ``_ops``;
this class only moves bytes.

Example::

    with IpfsClient("http://127.0.0.1:5001", timeout=30) as ipfs:
        cid = ipfs.add_bytes(b"hello")
        assert ipfs.cat(cid, timeout=5) == b"hello"
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from inferchain.ipfs import _ops, _rpc
from inferchain.ipfs._ops import DirEntry, NodeStat
from inferchain.ipfs.cid import Cid
from inferchain.ipfs.errors import IpfsError
from inferchain.ipfs.unixfs import Tree

T = TypeVar("T")

DEFAULT_MAX_SIZE = 256 << 20
"""Largest content :meth:`IpfsClient.cat` returns unless told otherwise (256 MiB)."""


class IpfsClient:
    """Talks to one node at ``api_url`` (``http://host:port``); ``timeout`` in seconds.

    ``timeout`` is the default budget of every call; calls that may wait for content the
    node lacks (``cat``, ``pin``, ``ls``…) send it to the node as ``timeout=`` too, because
    an offline node otherwise waits forever for a missing CID. ``transport`` is for tests.
    """

    def __init__(
        self,
        api_url: str,
        timeout: float = 30.0,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=_rpc.api_base_url(api_url), timeout=timeout, transport=transport
        )

    # --- uploads ------------------------------------------------------------------------

    def add_bytes(self, data: bytes, *, pin: bool = True, only_hash: bool = False) -> Cid:
        """Store ``data`` as a file and return its CID (checked against the local one).

        ``only_hash`` asks the node for the CID without storing anything.
        """
        return self._run(_ops.add_bytes(bytes(data), pin=pin, only_hash=only_hash))

    def add_file(self, path: str | os.PathLike[str], *, pin: bool = True) -> Cid:
        """Store the file at ``path``, streamed from disk."""
        return self._run(_ops.add_file(Path(path), pin=pin))

    def add_directory(self, path: str | os.PathLike[str], *, pin: bool = True) -> Cid:
        """Store a directory tree as one UnixFS directory and return the directory's CID."""
        return self._run(_ops.add_directory(Path(path), pin=pin))

    def add_tree(self, tree: Tree, *, pin: bool = True) -> Cid:
        """Store an in-memory directory: names to ``bytes`` (files) or nested mappings."""
        return self._run(_ops.add_tree(tree, pin=pin))

    # --- reads --------------------------------------------------------------------------

    def cat(
        self, cid: Cid | str, *, timeout: float | None = None, max_size: int = DEFAULT_MAX_SIZE
    ) -> bytes:
        """The verified content of file ``cid``.

        Raises ``IpfsTimeout`` past ``timeout``, ``IpfsTooLarge`` past ``max_size`` bytes
        (the transfer is cut there), ``CidMismatch`` if the bytes are not ``cid``'s.
        """
        return self._run(_ops.cat(cid, max_size=max_size, budget_s=timeout or self.timeout))

    def cat_path(
        self,
        root: Cid | str,
        path: str,
        *,
        timeout: float | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> bytes:
        """The verified content of the file at ``path`` (``a/b.txt``) inside directory ``root``."""
        op = _ops.cat_path(root, path, max_size=max_size, budget_s=timeout or self.timeout)
        return self._run(op)

    def download(
        self,
        cid: Cid | str,
        dest: str | os.PathLike[str],
        *,
        timeout: float | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> Path:
        """Stream file ``cid`` to ``dest``; the file appears only once fully verified."""
        op = _ops.download(cid, Path(dest), max_size=max_size, budget_s=timeout or self.timeout)
        return self._run(op)

    def ls(self, cid: Cid | str, *, timeout: float | None = None) -> list[DirEntry]:
        """Entries of directory ``cid``, decoded from its verified block."""
        return self._run(_ops.ls(cid, budget_s=timeout or self.timeout))

    def stat(self, cid: Cid | str, *, timeout: float | None = None) -> NodeStat:
        """Kind (file, directory…) and file size of ``cid``, read from its verified root block.

        A cheap check before a download: ``IpfsTimeout`` when no node has the root in time.
        """
        return self._run(_ops.stat(cid, budget_s=timeout or self.timeout))

    def resolve(self, root: Cid | str, path: str, *, timeout: float | None = None) -> Cid:
        """The CID at ``path`` inside directory ``root``, verified hop by hop."""
        return self._run(_ops.resolve(root, path, budget_s=timeout or self.timeout))

    # --- pins ---------------------------------------------------------------------------

    def pin(self, cid: Cid | str, *, timeout: float | None = None) -> None:
        """Pin ``cid`` recursively (fetching what the node lacks, within ``timeout``)."""
        self._run(_ops.pin(cid, budget_s=timeout or self.timeout))

    def unpin(self, cid: Cid | str) -> None:
        """Drop the recursive pin of ``cid``; ``IpfsNotFound`` if it is not pinned."""
        self._run(_ops.unpin(cid))

    def pins(self) -> set[Cid]:
        """Roots of all recursive pins."""
        return self._run(_ops.pins())

    def is_pinned(self, cid: Cid | str) -> bool:
        """Whether ``cid`` is kept by a pin (its own, or a pinned parent's)."""
        return self._run(_ops.is_pinned(cid))

    # --- node ---------------------------------------------------------------------------

    def version(self) -> str:
        """The node's version string."""
        return self._run(_ops.version())

    def healthy(self) -> bool:
        """Whether the node answers ``version``; never raises an IPFS error."""
        try:
            self.version()
        except IpfsError:
            return False
        return True

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> IpfsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- I/O ------------------------------------------------------------------------------

    def _run(self, op: _ops.Op[T]) -> T:
        try:
            call = next(op)
            while True:
                try:
                    reply = self._send(call)
                except IpfsError as exc:
                    call = op.throw(exc)
                else:
                    call = op.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            op.close()

    def _send(self, call: _rpc.Call) -> Any:
        timeout = _rpc.request_timeout(call.budget_s, self.timeout)
        deadline = _rpc.Deadline(call.endpoint, call.budget_s)
        with _rpc.transport_errors(call.endpoint):
            if call.sink is None:
                response = self._http.post(
                    call.endpoint, params=call.params, files=call.files, timeout=timeout
                )
                _rpc.check_reply(call.endpoint, response.status_code, response.content)
                return response.content
            with self._http.stream(
                "POST", call.endpoint, params=call.params, timeout=timeout
            ) as response:
                if not _rpc.is_success(response.status_code):
                    _rpc.check_reply(call.endpoint, response.status_code, response.read())
                for chunk in response.iter_bytes():
                    call.sink.feed(chunk)
                    deadline.check()
            return call.sink.close()
