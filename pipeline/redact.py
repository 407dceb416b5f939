"""Replace personal data in rendered text and URLs with typed placeholders (DESIGN §4, Privacy).

Runs on every rendered timeline line, so every pattern is compiled once here, each rule is skipped
by a cheap count when the text cannot hold a match, and every pattern is linear: quantifiers are
bounded or anchored by a lookbehind so a long run is tried from its start only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

KINDS = ("email", "phone", "card", "iban", "ip", "number")

_DIGITS = "0123456789"

# An email, also with its "@" percent-encoded as it appears in a raw URL query.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}(?:@|%40)(?:[\w-]{1,63}\.){1,8}[^\W\d_]{2,24}(?![\w-])")

# Country code, check digits, then 11-30 alphanumerics, bare or grouped by spaces in fours; any
# case, since a typed IBAN can reach a URL query in lower case. Mod-97 keeps ordinary words out.
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}"
    r"(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?)(?![A-Za-z0-9])"
)

# 13-19 digits, bare or in groups (4-4-4-4, 4-6-5, ...) separated by spaces or dashes.
# A contiguous 13-19 digit run is checked even when glued to letters (`user-4111…`): an id this
# long that passes Luhn is more likely a card than not worth hiding. Grouped forms stand alone.
_CARD = re.compile(
    r"(?<![\d.,+])\d{13,19}(?!\d|[.,]\d)"
    r"|(?<![\w.,+-])\d{4}(?:[ -]\d{3,6}){2,4}(?!\w|[.,]\d)"
)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.\d)")

# Full (eight groups) or compressed ("::") form; times such as 12:30:15 have neither.
_HEX = r"[0-9A-Fa-f]{1,4}"
_IPV6 = re.compile(
    rf"(?<![\w:.])(?:{_HEX}(?::{_HEX}){{7}}|(?:{_HEX}(?::{_HEX}){{0,6}})?::(?:{_HEX}(?::{_HEX}){{0,6}})?)"
    r"(?![\w:]|\.\d)"
)

# "+" and digits, or an optional "+CC", an optional "(area)", then groups joined by one separator.
_PHONE = re.compile(
    r"(?<![\w.,+-])(?:\+\d{9,15}"
    r"|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}([ .-])\d{2,8}(?:\1\d{2,8}){0,5})"
    r"(?![\w:]|[.,]\d)"
)

# A standalone run of 8+ digits; "#" and exactly eight digits is a CSS colour (#rrggbbaa), kept.
_NUMBER = re.compile(r"(?:(?<![\w#-])\d{8,}|(?<=#)\d{9,})(?![\w-])")

# Without "+" or "(", a phone starts with a trunk "0" or has the North American 3-3-4 shape;
# anything else ("2022 2023 2024", "10 11 12 13 14") is a list of numbers.
_NANP = re.compile(r"(?:1[ .-])?\d{3}([ .-])\d{3}\1\d{4}")


_IBAN_LETTERS = str.maketrans({chr(ord("A") + value): str(value + 10) for value in range(26)})
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")


def _whole(match: re.Match[str]) -> int:
    return len(match[0])


def _longest_valid_prefix(candidate: str, is_valid: Callable[[str], bool]) -> int:
    """Length of the longest prefix, cut at a group separator, that is valid; 0 when none is."""
    end = len(candidate)
    while end > 0:
        if is_valid(candidate[:end]):
            return end
        end = max(candidate.rfind(" ", 0, end), candidate.rfind("-", 0, end))
    return 0


def _is_iban(candidate: str) -> bool:
    """Mod-97 of the rearranged IBAN is 1; every national format is mostly digits after the check digits."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or sum(map(compact[4:].count, _DIGITS)) * 2 < len(compact) - 4:
        return False
    return int((compact[4:] + compact[:4]).translate(_IBAN_LETTERS)) % 97 == 1


def _is_card(candidate: str) -> bool:
    """Luhn: from the right, every second digit is doubled (its digits summed) before adding up."""
    digits = candidate.replace(" ", "").replace("-", "")[::-1]
    if not 13 <= len(digits) <= 19:
        return False
    return (sum(map(int, digits[0::2])) + sum(map(int, digits[1::2].translate(_LUHN_DOUBLED)))) % 10 == 0


def _iban_span(match: re.Match[str]) -> int:
    return _longest_valid_prefix(match[0], _is_iban)


def _card_span(match: re.Match[str]) -> int:
    return _longest_valid_prefix(match[0], _is_card)


def _ipv6_span(match: re.Match[str]) -> int:
    """Compressed forms need at least one group and at most seven ("::" stands for the rest)."""
    text = match[0]
    if "::" not in text:
        return len(text)
    groups = [group for group in text.split(":") if group]
    return len(text) if 1 <= len(groups) <= 7 else 0


def _phone_span(match: re.Match[str]) -> int:
    """9-15 digits in all, with a country code, an area code, a trunk "0" or the 3-3-4 shape."""
    text = match[0]
    if not 9 <= sum(map(text.count, _DIGITS)) <= 15:
        return 0
    if text[0] in "+(" or _NANP.fullmatch(text):
        return len(text)
    # "0.123456789" is a decimal, not a phone.
    return len(text) if text[0] == "0" and not (match[1] == "." and text.count(".") == 1) else 0


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    applies: Callable[[str, int], bool]  # (text, digit count) -> can this text hold a match?
    span: Callable[[re.Match[str]], int] = _whole  # how much of a match is personal data; 0 = none


# Most specific first: an IBAN or a card must not be eaten digit by digit by the later rules.
_RULES = (
    _Rule("email", _EMAIL, lambda text, _: "@" in text or "%40" in text),
    _Rule("iban", _IBAN, lambda _, digits: digits >= 4, _iban_span),
    _Rule("card", _CARD, lambda _, digits: digits >= 13, _card_span),
    _Rule("ip", _IPV4, lambda text, digits: digits >= 4 and "." in text),
    _Rule("ip", _IPV6, lambda text, _: text.count(":") >= 2, _ipv6_span),
    _Rule("phone", _PHONE, lambda _, digits: digits >= 9, _phone_span),
    _Rule("number", _NUMBER, lambda _, digits: digits >= 8),
)

_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*:)?(?://(?P<authority>[^/?#]*))?"
    r"(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?",
    re.DOTALL,
)
# What a changed component must re-escape to keep its place in the URL ("+" is a space in a query).
_RESERVED = {char: f"%{ord(char):02X}" for char in "%&#?/+= "}
_ENCODE_SEGMENT = str.maketrans(_RESERVED)
_ENCODE_QUERY = str.maketrans({**_RESERVED, " ": "+"})
_ENCODE_FRAGMENT = str.maketrans({char: _RESERVED[char] for char in "%# "})


def _percent_decode(component: str, *, form: bool) -> str:
    if form:
        component = component.replace("+", " ")
    return _PERCENT_RUN.sub(
        lambda run: bytes.fromhex(run[0].replace("%", "")).decode("utf-8", "replace"), component
    )


class Redactor:
    """Replaces personal data with typed placeholders and counts what it replaced.

    One instance per observation: `manifest` accumulates over every `redact` and `redact_url` call.
    """

    def __init__(self) -> None:
        self._counts = dict.fromkeys(KINDS, 0)

    @property
    def manifest(self) -> dict[str, int]:
        """Replacements so far by kind, only kinds seen, in `KINDS` order."""
        return {kind: count for kind, count in self._counts.items() if count}

    def redact(self, text: str) -> str:
        """Return `text` with emails, IBANs, cards, IPs, phones and long digit runs replaced."""
        digits = sum(map(text.count, _DIGITS))
        for rule in _RULES:
            if rule.applies(text, digits):
                text = self._apply(rule, text)
        return text

    def redact_url(self, url: str) -> str:
        """Return `url` with userinfo dropped and personal data in host, path, query and fragment replaced.

        Scheme, host names, ordinary path segments and query keys stay readable; a component is
        percent-decoded before it is checked (so `jane%40example.com` is an email) and is left
        byte-for-byte as it was unless something in it was replaced.
        """
        parts = _URL.fullmatch(url)
        assert parts is not None  # every group is optional, so any string matches
        scheme, authority, path, query, fragment = parts.group(
            "scheme", "authority", "path", "query", "fragment"
        )
        out = scheme or ""
        if authority is not None:
            out += "//" + self.redact(authority.rpartition("@")[2])
        out += "/".join(self._redact_component(segment, _ENCODE_SEGMENT) for segment in path.split("/"))
        if query is not None:
            out += "?" + "&".join(self._redact_query_pair(pair) for pair in query.split("&"))
        if fragment is not None:
            out += "#" + self._redact_component(fragment, _ENCODE_FRAGMENT)
        return out

    def _apply(self, rule: _Rule, text: str) -> str:
        pieces: list[str] = []
        kept_from = search_from = 0
        while match := rule.pattern.search(text, search_from):
            length = rule.span(match)
            if not length:
                # Every pattern that can reject is bounded, so retrying one place on stays linear
                # and finds a card or IBAN that starts inside a rejected candidate.
                search_from = match.start() + 1
                continue
            pieces += (text[kept_from : match.start()], f"[{rule.kind}]")
            # A shortened match (an IBAN or card followed by a stray group) rescans what it left.
            kept_from = search_from = match.start() + length
            self._counts[rule.kind] += 1
        if not pieces:
            return text
        pieces.append(text[kept_from:])
        return "".join(pieces)

    def _redact_query_pair(self, pair: str) -> str:
        key, equals, value = pair.partition("=")
        return (
            self._redact_component(key, _ENCODE_QUERY) + equals + self._redact_component(value, _ENCODE_QUERY)
        )

    def _redact_component(self, raw: str, encoding: dict[int, str]) -> str:
        decoded = _percent_decode(raw, form=encoding is _ENCODE_QUERY)
        redacted = self.redact(decoded)
        if redacted == decoded:
            return raw
        return redacted.translate(encoding)
