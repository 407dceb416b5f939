"""Which hosts a webhook may reach (pipeline/addresses.py): every spelling of a private address is
refused without asking DNS."""

from __future__ import annotations

import pytest

from pipeline.addresses import address_problem, host_problem, parse_address, url_host_problem


@pytest.mark.parametrize(
    ("url", "because"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address"),
        ("http://[::1]/hook", "::1 is a loopback address"),
        ("http://0x7f000001/", "0x7f000001 (127.0.0.1) is a loopback address"),
        ("http://2130706433/", "2130706433 (127.0.0.1) is a loopback address"),
        ("http://0177.0.0.1/", "0177.0.0.1 (127.0.0.1) is a loopback address"),
        ("http://127.1/", "127.1 (127.0.0.1) is a loopback address"),
        ("http://0/", "0 (0.0.0.0) is an unspecified address"),
        ("http://[::ffff:127.0.0.1]/", "carrying 127.0.0.1, a loopback address"),
        ("http://[::ffff:a00:1]/", "carrying 10.0.0.1, a private address"),
        ("http://[64:ff9b::7f00:1]/", "carrying 127.0.0.1, a loopback address"),
        ("http://[64:ff9b::a9fe:a9fe]/", "carrying 169.254.169.254, a cloud metadata address"),
        ("http://[64:ff9b:1::808:808]/", "a private (local-use NAT64) address"),
        ("http://[2002:7f00:1::]/", "carrying 127.0.0.1, a loopback address"),
        ("http://[2002:c0a8:101::1]/", "carrying 192.168.1.1, a private address"),
        ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "carrying 127.0.0.1"),  # Teredo
        ("http://[::127.0.0.1]/", "carrying 127.0.0.1, a loopback address"),  # IPv4-compatible
        ("http://10.0.0.5/", "a private address"),
        ("http://172.16.3.4/", "a private address"),
        ("http://192.168.1.1/", "a private address"),
        ("http://100.64.0.1/", "a shared (carrier-grade NAT) address"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://169.254.10.1/", "a link-local address"),
        ("http://100.100.100.200/", "a cloud metadata address"),
        ("http://192.0.0.192/", "a cloud metadata address"),
        ("http://[fd00:ec2::254]/", "a cloud metadata address"),
        ("http://[fe80::1%25eth0]/", "a link-local address"),
        ("http://[fd12:3456::1]/", "a private (unique local) address"),
        ("http://[fec0::1]/", "a private (site-local) address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://[ff02::1]/", "a multicast address"),
        ("http://255.255.255.255/", "a reserved address"),
        ("http://localhost:9000/", "localhost is a local host name"),
        ("http://api.localhost/", "a local host name"),
        ("http://metadata.google.internal/computeMetadata/v1/", "a local host name"),
        ("http://printer.local/", "a local host name"),
        ("http://metadata/computeMetadata/v1/", "a name with no domain"),
        ("http://１２７.0.0.1/", "(127.0.0.1) is a loopback address"),  # full-width digits
    ],
)
def test_every_spelling_of_a_private_address_is_refused(url, because):
    problem = url_host_problem(url)
    assert problem is not None and because in problem


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T0001/B0001/XXXX",
        "https://example.com:8443/hooks?token=abc",
        "http://8.8.8.8/",
        "http://[2606:4700:4700::1111]/",
        "http://[64:ff9b::808:808]/",  # NAT64 of a public address
        "http://[2002:808:808::1]/",  # 6to4 of a public address
        "http://[::ffff:8.8.8.8]/",
    ],
)
def test_public_addresses_and_names_pass(url):
    assert url_host_problem(url) is None


def test_legacy_ipv4_spellings_read_as_inet_aton_does():
    assert str(parse_address("0x7f.1")) == "127.0.0.1"
    assert str(parse_address("10.0x10.1")) == "10.16.0.1"
    assert str(parse_address("3232235777")) == "192.168.1.1"
    assert str(parse_address("[::1]")) == "::1"
    assert parse_address("256.1.1.1") is None and parse_address("08.1.1.1") is None
    assert parse_address("1.2.3.4.5") is None and parse_address("hooks.slack.com") is None


def test_resolved_addresses_are_judged_as_written():
    assert address_problem("93.184.215.14") is None
    assert address_problem("::ffff:169.254.169.254") == (
        "an IPv6 address carrying 169.254.169.254, a cloud metadata address"
    )
    assert address_problem("not an address") == "not an IP address"
    assert host_problem("hooks.example.com") is None  # a name: resolved and checked when sent
