"""Asynchronous twin of :class:`~inferchain.ipfs.client.IpfsClient` (same operations).

Both clients drive the same operation generators from ``_ops``; this one awaits the I/O.
Uploads from disk and :meth:`AsyncIpfsClient.download` still touch local files with
blocking calls, one chunk at a time.

Example::

    async with AsyncIpfsClient("http://127.0.0.1:5001", timeout=30) as ipfs:
        cid = await ipfs.add_bytes(b"hello")
        assert await ipfs.cat(cid, timeout=5) == b"hello"
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
from inferchain.ipfs.client import DEFAULT_MAX_SIZE
from inferchain.ipfs.errors import IpfsError
from inferchain.ipfs.unixfs import Tree

T = TypeVar("T")


class AsyncIpfsClient:
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
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=_rpc.api_base_url(api_url), timeout=timeout, transport=transport
        )

    # --- uploads ------------------------------------------------------------------------

    async def add_bytes(self, data: bytes, *, pin: bool = True, only_hash: bool = False) -> Cid:
        """Store ``data`` as a file and return its CID (checked against the local one).

        ``only_hash`` asks the node for the CID without storing anything.
        """
        return await self._run(_ops.add_bytes(bytes(data), pin=pin, only_hash=only_hash))

    async def add_file(self, path: str | os.PathLike[str], *, pin: bool = True) -> Cid:
        """Store the file at ``path``, streamed from disk."""
        return await self._run(_ops.add_file(Path(path), pin=pin))

    async def add_directory(self, path: str | os.PathLike[str], *, pin: bool = True) -> Cid:
        """Store a directory tree as one UnixFS directory and return the directory's CID."""
        return await self._run(_ops.add_directory(Path(path), pin=pin))

    async def add_tree(self, tree: Tree, *, pin: bool = True) -> Cid:
        """Store an in-memory directory: names to ``bytes`` (files) or nested mappings."""
        return await self._run(_ops.add_tree(tree, pin=pin))

    # --- reads --------------------------------------------------------------------------

    async def cat(
        self, cid: Cid | str, *, timeout: float | None = None, max_size: int = DEFAULT_MAX_SIZE
    ) -> bytes:
        """The verified content of file ``cid``.

        Raises ``IpfsTimeout`` past ``timeout``, ``IpfsTooLarge`` past ``max_size`` bytes
        (the transfer is cut there), ``CidMismatch`` if the bytes are not ``cid``'s.
        """
        return await self._run(_ops.cat(cid, max_size=max_size, budget_s=timeout or self.timeout))

    async def cat_path(
        self,
        root: Cid | str,
        path: str,
        *,
        timeout: float | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> bytes:
        """The verified content of the file at ``path`` (``a/b.txt``) inside directory ``root``."""
        op = _ops.cat_path(root, path, max_size=max_size, budget_s=timeout or self.timeout)
        return await self._run(op)

    async def download(
        self,
        cid: Cid | str,
        dest: str | os.PathLike[str],
        *,
        timeout: float | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> Path:
        """Stream file ``cid`` to ``dest``; the file appears only once fully verified."""
        op = _ops.download(cid, Path(dest), max_size=max_size, budget_s=timeout or self.timeout)
        return await self._run(op)

    async def ls(self, cid: Cid | str, *, timeout: float | None = None) -> list[DirEntry]:
        """Entries of directory ``cid``, decoded from its verified block."""
        return await self._run(_ops.ls(cid, budget_s=timeout or self.timeout))

    async def stat(self, cid: Cid | str, *, timeout: float | None = None) -> NodeStat:
        """Kind (file, directory…) and file size of ``cid``, read from its verified root block.

        A cheap check before a download: ``IpfsTimeout`` when no node has the root in time.
        """
        return await self._run(_ops.stat(cid, budget_s=timeout or self.timeout))

    async def resolve(self, root: Cid | str, path: str, *, timeout: float | None = None) -> Cid:
        """The CID at ``path`` inside directory ``root``, verified hop by hop."""
        return await self._run(_ops.resolve(root, path, budget_s=timeout or self.timeout))

    # --- pins ---------------------------------------------------------------------------

    async def pin(self, cid: Cid | str, *, timeout: float | None = None) -> None:
        """Pin ``cid`` recursively (fetching what the node lacks, within ``timeout``)."""
        await self._run(_ops.pin(cid, budget_s=timeout or self.timeout))

    async def unpin(self, cid: Cid | str) -> None:
        """Drop the recursive pin of ``cid``; ``IpfsNotFound`` if it is not pinned."""
        await self._run(_ops.unpin(cid))

    async def pins(self) -> set[Cid]:
        """Roots of all recursive pins."""
        return await self._run(_ops.pins())

    async def is_pinned(self, cid: Cid | str) -> bool:
        """Whether ``cid`` is kept by a pin (its own, or a pinned parent's)."""
        return await self._run(_ops.is_pinned(cid))

    # --- node ---------------------------------------------------------------------------

    async def version(self) -> str:
        """The node's version string."""
        return await self._run(_ops.version())

    async def healthy(self) -> bool:
        """Whether the node answers ``version``; never raises an IPFS error."""
        try:
            await self.version()
        except IpfsError:
            return False
        return True

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncIpfsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- I/O ------------------------------------------------------------------------------

    async def _run(self, op: _ops.Op[T]) -> T:
        try:
            call = next(op)
            while True:
                try:
                    reply = await self._send(call)
                except IpfsError as exc:
                    call = op.throw(exc)
                else:
                    call = op.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            op.close()

    async def _send(self, call: _rpc.Call) -> Any:
        timeout = _rpc.request_timeout(call.budget_s, self.timeout)
        deadline = _rpc.Deadline(call.endpoint, call.budget_s)
        with _rpc.transport_errors(call.endpoint):
            if call.sink is None:
                response = await self._http.post(
                    call.endpoint, params=call.params, files=call.files, timeout=timeout
                )
                _rpc.check_reply(call.endpoint, response.status_code, response.content)
                return response.content
            async with self._http.stream(
                "POST", call.endpoint, params=call.params, timeout=timeout
            ) as response:
                if not _rpc.is_success(response.status_code):
                    _rpc.check_reply(call.endpoint, response.status_code, await response.aread())
                async for chunk in response.aiter_bytes():
                    call.sink.feed(chunk)
                    deadline.check()
            return call.sink.close()
