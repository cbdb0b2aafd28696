"""Network address recognizers: IPv4, IPv6 and MAC addresses.

RE2 has no look-around, so each pattern takes the whole run of address-like characters (an IPv4
candidate keeps any dotted or glued tail, an IPv6 candidate keeps every colon group) and the
validator rejects runs that are longer than an address. That is what keeps `1.2.3.4.5` (an OID),
`1.2.3.4abc`, a 16-group fingerprint or `12:30:45` from yielding an address-shaped piece. The left
edge is a consumed "not part of a token" character, so a match never starts inside `v1.2.3.4` or
`std::string`.
"""

from __future__ import annotations

import ipaddress

from recognizers.base import PatternRecognizer

# A character that may precede an address: anything but a word character or the address's own
# separators. `-` and `:` stay allowed so `BP-123-10.0.0.1-456` and `addr:10.0.0.1` still match;
# `~` does not, as it joins the version into Windows component names (`...~amd64~~6.1.1.0`).
_IPV4_LEFT = r"(?:^|[^\w.~])"
_IPV6_LEFT = r"(?:^|[^\w:.])"
_MAC_LEFT = r"(?:^|[^\w:.-])"


_SAME_ON_EVERY_HOST = frozenset({"169.254.169.254", "255.255.255.255"})


def _is_ipv4(value: str) -> bool:
    parts = value.split(".")
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts):
        return False
    # `N.0.0.0` (N > 0) is a /8 network base and `0.x.y.z` is never a host: both name no machine,
    # and both are how versions print (`Chrome/120.0.0.0`, `Version=4.0.0.0`, `version 0.0.0.6`).
    # `0.0.0.0` stays: it is the bind-all address.
    if parts[0] == "0" or int(parts[0]) == 0:
        return all(int(p) == 0 for p in parts)
    # Leading zeros (`1.2.3.04`) are not how any stack prints an address.
    if any(len(p) > 1 and p.startswith("0") for p in parts):
        return False
    # Addresses that are the same on every machine identify nobody: loopback and the cloud
    # metadata endpoint. (Private ranges stay: inside one network they do identify a host.)
    if parts[0] == "127" or value in _SAME_ON_EVERY_HOST:
        return False
    return any(int(p) for p in parts[1:])


def _is_ipv6(value: str) -> bool:
    # Cheap shape checks first: clock times and key:value pairs never reach ipaddress.
    colons = value.count(":")
    if "::" not in value and colons != 7 and not (colons == 6 and "." in value):
        return False
    address = value.split("%", 1)[0]
    # An address written without any digit is far more likely code (`Cafe::Bad`) than a host.
    if not any(c.isdigit() for c in address):
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _is_mac(value: str) -> bool:
    if "." in value:
        groups = value.split(".")
        if len(groups) != 3 or any(len(g) != 4 for g in groups):
            return False
        # Cisco form: `1234.5678.9012` is more often a number than a MAC, so demand a hex letter.
        if not any(c in "abcdefABCDEF" for c in value):
            return False
    else:
        separator = ":" if ":" in value else "-"
        groups = value.split(separator)
        if len(groups) != 6 or any(len(g) != 2 for g in groups):
            return False
    digits = value.lower().replace(":", "").replace("-", "").replace(".", "")
    # All-zero and broadcast addresses identify no device.
    return digits not in {"000000000000", "ffffffffffff"}


_HEX = "[0-9A-Fa-f]"
_H16 = _HEX + "{1,4}"

IPV4 = PatternRecognizer(
    name="ipv4_address",
    entity_type="IP_ADDRESS",
    # Four dotted numbers plus any glued tail (`.5`, `abc`), which the validator then rejects.
    pattern=_IPV4_LEFT + r"(\d+(?:\.\d+){3}\w*(?:\.\w+)*)",
    value_group=1,
    needs_digit=True,
    validator=_is_ipv4,
    score=0.9,
)

IPV6 = PatternRecognizer(
    name="ipv6_address",
    entity_type="IP_ADDRESS",
    # Colon-separated hex groups, then an optional embedded IPv4 tail and zone id (`%eth0`). A
    # trailing colon is left out (`from fe80::1: msg`); glued word characters and further `:x`
    # groups are kept, so `fe80::12345` or `0:0:0:0:0:0:0:2181:Peer` fail validation instead of
    # shrinking to a valid prefix.
    pattern=(
        _IPV6_LEFT
        + r"((?:(?:"
        + _H16
        + r")?(?::{1,2}"
        + _H16
        + r")+(?:::)?|"
        + _H16
        + r"::)(?:\.\d+){0,3}\w*(?::+\w+)*(?:%\w+(?:[.-]\w+)*)?)"
    ),
    value_group=1,
    triggers=(":",),
    needs_digit=True,
    validator=_is_ipv6,
    score=0.9,
)

# Java's InetSocketAddress prints an IPv6 peer without brackets, port glued on with one more
# colon: `/0:0:0:0:0:0:0:1:54298`. The slash and the full eight groups make that unambiguous.
IPV6_JAVA_SOCKET = PatternRecognizer(
    name="ipv6_java_socket_address",
    entity_type="IP_ADDRESS",
    pattern=r"/((?:" + _H16 + r":){7}" + _H16 + r"):\d{1,5}\b",
    value_group=1,
    triggers=(":",),
    needs_digit=True,
    validator=_is_ipv6,
    score=0.9,
)

MAC_ADDRESS = PatternRecognizer(
    name="mac_address",
    entity_type="MAC_ADDRESS",
    # Six pairs joined by `:` or `-`, or Cisco's three dotted quads; plus any further glued groups,
    # so a longer hex fingerprint is rejected whole.
    pattern=(
        _MAC_LEFT
        + r"((?:"
        + _HEX
        + r"{2}(?:[:-]"
        + _HEX
        + r"{2}){5}|"
        + _HEX
        + r"{4}\."
        + _HEX
        + r"{4}\."
        + _HEX
        + r"{4})(?:[:.-]?\w)*)"
    ),
    value_group=1,
    needs_digit=True,
    validator=_is_mac,
)

NETWORK_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    IPV4,
    IPV6,
    IPV6_JAVA_SOCKET,
    MAC_ADDRESS,
)
