"""Table-driven tests for the IPv4, IPv6 and MAC address recognizers (synthetic fixtures)."""

from __future__ import annotations

import pytest

from recognizers.network import NETWORK_RECOGNIZERS
from tests.unit.recognizers import tables


def found(text: str) -> list[tuple[str, str]]:
    """(entity type, exact value) per span the network recognizers report."""
    return tables.found(NETWORK_RECOGNIZERS, text)


IP = "IP_ADDRESS"
MAC = "MAC_ADDRESS"

HITS: list[tuple[str, list[tuple[str, str]]]] = [
    # IPv4 in its usual log positions.
    ("Invalid user guest from 203.0.113.45", [(IP, "203.0.113.45")]),
    ("Connection closed by 198.51.100.7 port 52211 [preauth]", [(IP, "198.51.100.7")]),
    ("Accepted socket connection from /192.0.2.14:48122", [(IP, "192.0.2.14")]),
    (
        "reverse mapping checking getaddrinfo for h.example.net [192.0.2.99] failed",
        [(IP, "192.0.2.99")],
    ),
    ("allow from 10.20.0.0/16 and 172.16.5.4/32", [(IP, "10.20.0.0"), (IP, "172.16.5.4")]),
    ("upstream 10.1.2.3:8080, 10.1.2.4:8080", [(IP, "10.1.2.3"), (IP, "10.1.2.4")]),
    (
        '10.11.21.137,10.11.10.1 "GET /v2/servers HTTP/1.1" status: 200',
        [(IP, "10.11.21.137"), (IP, "10.11.10.1")],
    ),
    ("inet addr:192.168.1.20  Bcast:192.168.1.255", [(IP, "192.168.1.20"), (IP, "192.168.1.255")]),
    ("block BP-99887766-10.9.8.7-1500000000000:blk_1073", [(IP, "10.9.8.7")]),
    ("rhost=198.51.100.250  user=root", [(IP, "198.51.100.250")]),
    ("bind 0.0.0.0/0.0.0.0:3888", [(IP, "0.0.0.0"), (IP, "0.0.0.0")]),
    ("seen at 203.0.113.9.", [(IP, "203.0.113.9")]),
    ("client=(203.0.113.200)", [(IP, "203.0.113.200")]),
    ("node-7/10.44.3.2:50010", [(IP, "10.44.3.2")]),
    # IPv6, compressed and full, with zone, port, brackets and an embedded IPv4 tail.
    ("listening on ::1 port 22", [(IP, "::1")]),
    ("neighbour fe80::1%eth0 reachable", [(IP, "fe80::1%eth0")]),
    ("prefix 2001:db8:: announced", [(IP, "2001:db8::")]),
    ("mapped ::ffff:192.0.2.1 seen", [(IP, "192.0.2.1"), (IP, "::ffff:192.0.2.1")]),
    (
        "peer 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up",
        [(IP, "2001:0db8:85a3:0000:0000:8a2e:0370:7334")],
    ),
    ("GET https://[2001:db8::1]:443/health", [(IP, "2001:db8::1")]),
    ("Received disconnect from 2001:db8:a::7: 11: Bye", [(IP, "2001:db8:a::7")]),
    ("rhost=2001:DB8:0:0:8:800:200C:417A", [(IP, "2001:DB8:0:0:8:800:200C:417A")]),
    ("Accepted socket connection from /0:0:0:0:0:0:0:1:54298", [(IP, "0:0:0:0:0:0:0:1")]),
    # MAC addresses in colon, dash and Cisco dot forms.
    (
        "DHCPACK on 10.0.0.9 to 3c:5a:b4:01:9e:2f via eth0",
        [(IP, "10.0.0.9"), (MAC, "3c:5a:b4:01:9e:2f")],
    ),
    ("Physical Address. . . : 00-1A-2B-3C-4D-5E", [(MAC, "00-1A-2B-3C-4D-5E")]),
    ("port Gi0/1 learned 001a.2b3c.4d5e", [(MAC, "001a.2b3c.4d5e")]),
    ("src_mac=A4:83:E7:12:34:56,", [(MAC, "A4:83:E7:12:34:56")]),
]

NEAR_MISSES: list[str] = [
    # Same on every machine, so they identify nobody; leading zeros are no stack's output.
    "listening on 127.0.0.1:8080",
    "GET http://169.254.169.254/latest/meta-data/",
    "odd 1.2.3.04 value",
    # Version strings, build numbers, OIDs, decimals: not addresses.
    "Version 1.2.3 starting",
    "upgraded to v1.2.3.4 today",
    "kernel 2.6.32-754.el6.x86_64",
    "snmp oid 1.3.6.1.4.1.2021 polled",
    "build 6.1.7601.17514 installed",
    "Mozilla/5.0 (X11) Chrome/120.0.0.0 Safari/537.36",
    "Assembly Version=4.0.0.0, Culture=neutral",
    "progress 0.19211523 of 1.0",
    "octets out of range 256.1.1.1 and 10.0.0.300",
    "release1.2.3.4 and 1.2.3.4beta",
    "ratio 12.5.6",
    # Clock times, key pairs, hex digests and C++/Rust scopes are not IPv6.
    "started at 12:30:45 and ended 23:59:59.123",
    "Sat Jun 18 02:23:10 2005",
    "key a:b and c:d:e",
    "std::string name; Foo::bar(); std::vector<int>::size_type",
    "Cafe::Babe and Bad::Face",
    "x :: Int -> Int",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "fingerprint 43:51:43:a1:b5:fc:8b:b7:0a:3a:a9:b1:0f:66:73:a8",
    "PCI bridge 0000:00:1e.0 and 0000:00:1f.0",
    # MAC look-alikes.
    "phone 1234.5678.9012 ext",
    "ids 00:00:00:00:00:00 and ff:ff:ff:ff:ff:ff",
    "uuid a015cf14-84bb-4156-a48d-7c4824ac7a9d",
    # Versions shaped like addresses that no host can have.
    "WcpInitialize (wcp.dll version 0.0.0.6) called",
    "Package_for_KB3121255~31bf3856ad364e35~amd64~~6.1.1.0, ApplicableState: 112",
    "Zookeeper thread 0:0:0:0:0:0:0:2181:QuorumPeer started",
]


@pytest.mark.parametrize(("text", "expected"), HITS)
def test_finds_addresses(text: str, expected: list[tuple[str, str]]) -> None:
    assert sorted(found(text)) == sorted(expected)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_ignores_look_alikes(text: str) -> None:
    assert found(text) == []


def test_every_recognizer_has_a_cheap_precheck() -> None:
    for recognizer in NETWORK_RECOGNIZERS:
        assert recognizer.triggers or recognizer.needs_digit, recognizer.name


def test_recognizer_names_are_unique() -> None:
    names = [r.name for r in NETWORK_RECOGNIZERS]
    assert len(names) == len(set(names))
