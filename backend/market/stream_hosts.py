"""Which worker stream URLs the gateway may connect to.

A worker announces its stream URL in its registry metadata, so the URL is the worker's to
choose: without a check, any registered worker could point the gateway at its cloud
metadata service or an internal admin port (server-side request forgery). Only ``http``
and ``https`` are followed, and the host must resolve only to addresses allowed here:

- never link-local or metadata addresses (169.254.0.0/16, fe80::/10, fd00::/8, the
  100.100.100.200 of some clouds), unspecified or multicast ones;
- private and loopback addresses (10/8, 172.16/12, 192.168/16, 127/8, ::1, fc00::/7 and
  anything else not globally routable, reserved ranges included) only when
  ``allow_private`` (the gateway setting ``WORKER_STREAM_PRIVATE_HOSTS``: on in
  ``mode=local``, where workers run on 127.0.0.1).

Every address a name resolves to is checked, at each read. The connection resolves the
name again, so a DNS server that answers differently within that moment is not covered;
production deployments that fear it put the gateway behind an egress proxy.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

__all__ = ["UnsafeStreamUrl", "check_stream_url"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NEVER = tuple(
    ipaddress.ip_network(n)
    for n in ("169.254.0.0/16", "fe80::/10", "fd00::/8", "100.100.100.200/32", "0.0.0.0/8")
)


class UnsafeStreamUrl(ValueError):
    """A worker stream URL the gateway refuses to follow; the message says why."""


def check_stream_url(url: str, *, allow_private: bool) -> None:
    """Raise ``UnsafeStreamUrl`` unless ``url`` is http(s) to a host that resolves only to
    addresses allowed (see the module docstring)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeStreamUrl(f"scheme {parts.scheme or '(none)'} is not http or https")
    host = parts.hostname
    if not host:
        raise UnsafeStreamUrl("the URL names no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeStreamUrl("the URL's port is not a number in 0-65535") from exc
    for address in _addresses(host, port):
        _check_address(address, allow_private)


def _addresses(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeStreamUrl(f"host {host!r} does not resolve") from exc
    # Scoped IPv6 answers carry "%<zone>": the address is what precedes it.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _check_address(address: IpAddress, allow_private: bool) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in net for net in _NEVER if net.version == address.version):
        raise UnsafeStreamUrl(f"{address} is a link-local or metadata address")
    if address.is_unspecified or address.is_multicast:
        raise UnsafeStreamUrl(f"{address} is not a host address")
    if not address.is_global and not allow_private:
        raise UnsafeStreamUrl(
            f"{address} is a private address (allowed only with WORKER_STREAM_PRIVATE_HOSTS)"
        )
