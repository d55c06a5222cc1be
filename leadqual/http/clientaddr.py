"""Who is calling: the client address behind the proxies this deployment trusts.

Behind a reverse proxy every connection comes from the proxy, so rate limits and sign-in
throttles keyed by the peer address would lump every visitor together. `X-Forwarded-For` says
who the proxy was talking to, but anyone can send that header: it is only read when the peer is
one of LEADQUAL_TRUSTED_PROXIES, and then from the right (the entry the trusted proxy added) to
the left, skipping trusted proxies; the first address that is not a trusted proxy is the client.
Entries further left were written by the client itself and are never believed.

LEADQUAL_TRUSTED_PROXIES: IP addresses or networks (CIDR), separated by spaces or commas, e.g.
`127.0.0.1` for nginx on the same host or `172.16.0.0/12` for a container network. Unset: no
proxy is trusted and the header is ignored (the peer address is the client).

Limits are charged per `rate_key`: an IPv4 address, or the /64 network of an IPv6 address (one
subscriber usually holds a whole /64, so counting single IPv6 addresses would give one client
billions of budgets).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from leadqual import settings
from leadqual.config.marketing import ConfigError

ENV = settings.TRUSTED_PROXIES.name
IPV6_PREFIX = 64

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def parse_trusted(text: str) -> tuple[Network, ...]:
    """The networks of a LEADQUAL_TRUSTED_PROXIES value; ConfigError naming a bad entry."""
    networks = []
    for entry in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(
                f"{ENV}: {entry!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def trusted_proxies() -> tuple[Network, ...]:
    """The proxies LEADQUAL_TRUSTED_PROXIES names (none when unset)."""
    return parse_trusted(settings.TRUSTED_PROXIES.get())


def _address(text: str) -> Address | None:
    """An IP address as a proxy writes it (`1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443`,
    `::ffff:1.2.3.4`), or None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(peer: str | None, forwarded_for: list[str] | None, networks: tuple[Network, ...]) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the right-most
    X-Forwarded-For entry that is not a trusted proxy. An entry that is not an address stops the
    walk: the client is then the trusted hop that reported it (it cannot be told further)."""
    current = _address(peer or "")
    if current is None:
        return peer or "unknown"
    if not networks or not _trusted(current, networks):
        return str(current)
    entries = [part for header in forwarded_for or [] for part in header.split(",")]
    for entry in reversed(entries):
        if not entry.strip():
            continue
        hop = _address(entry)
        if hop is None:
            return str(current)
        current = hop
        if not _trusted(current, networks):
            return str(current)
    return str(current)  # every hop is a trusted proxy: the left-most one


def of_request(request) -> str:
    """The client address of a Sanic request (the socket peer and its X-Forwarded-For headers)."""
    return client_address(request.ip, request.headers.getall("x-forwarded-for", []), trusted_proxies())


def rate_key(address: str) -> str:
    """What a limit is charged to: the address, or the /64 network of an IPv6 address."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed) if parsed is not None else address


def for_log(address: str) -> str:
    """The address's network for a log line: an IPv4 address's /24, an IPv6 address's /64 (logs
    carry no personal data: leadqual/http/observability.py masks emails and phones, and would take a
    bare IPv4 address for a phone number)."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv4Address):
        return str(ipaddress.ip_network(f"{parsed}/24", strict=False))
    return rate_key(address)
