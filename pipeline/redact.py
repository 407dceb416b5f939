"""Replace personal data in rendered text and URLs with typed placeholders (DESIGN §4, Privacy).

Two kinds of evidence. By name: a value whose name says it is secret (`password=…`, `"card": "…"`,
`Authorization: Bearer …`, a secret query or fragment key, a secret event property) becomes
`[secret]`, whatever it looks like. By shape: emails, IBANs, cards (Luhn-valid `[card]`, grouped
like a card but failing Luhn `[card-like]`), IPs, phones and long digit runs. Names go first, so
`card: 4111 1111 1111 1111` is one `secret`, not a `card`.

Runs on every rendered timeline line; what each kind looks like, and the cheap checks that skip a
rule when a text cannot hold a match, are in `pipeline.personal_data`.
"""

from __future__ import annotations

import re

from pipeline.personal_data import (
    DIGITS,
    KINDS,
    NAMED,
    PLACEHOLDERS,
    RULES,
    SECRET_STEM,
    SECRET_TEXT,
    Rule,
    holds_secret,
    is_secret_name,
    secret_value_span,
)

__all__ = ["KINDS", "Redactor", "is_secret_name"]

_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*:)?(?://(?P<authority>[^/?#]*))?"
    r"(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?",
    re.DOTALL,
)
# What a changed component must re-escape to keep its place in the URL ("+" is a space in a query).
_RESERVED = {char: f"%{ord(char):02X}" for char in "%&#?/+= "}
# A path segment may hold "=", "&" and "+" as they are (`;jsessionid=[secret]` stays readable).
_ENCODE_SEGMENT = str.maketrans({char: _RESERVED[char] for char in "%#?/ "})
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

    One instance per observation: `manifest` accumulates over every `redact`, `redact_field` and
    `redact_url` call.
    """

    def __init__(self) -> None:
        self._counts = dict.fromkeys(KINDS, 0)

    @property
    def manifest(self) -> dict[str, int]:
        """Replacements so far by kind, only kinds seen, in `KINDS` order."""
        return {kind: count for kind, count in self._counts.items() if count}

    def redact(self, text: str) -> str:
        """Return `text` with secret values, emails, IBANs, cards, IPs, phones and long digit runs replaced.

        A value after a secret name and ":" or "=" (`Password: hunter2`, `"token": "abc"`,
        `Authorization: Bearer xyz`) and a token after "Bearer " become `[secret]`; a name with no
        value after it on its line (a form label) is left alone.
        """
        if ("=" in text or ":" in text) and SECRET_STEM.search(text.lower()):
            text = self._redact_named(text)
        digits = sum(map(text.count, DIGITS))
        for rule in RULES:
            if rule.applies(text, digits):
                text = self._apply(rule, text)
        return text

    def redact_field(self, name: str, value: str) -> str:
        """Return `[secret]` for a value whose `name` is secret (`is_secret_name`), else `value` redacted.

        An empty, boolean or null value, a mask (`••••`) or a placeholder is kept as it is: it
        holds no secret, and redacting twice changes nothing.
        """
        if is_secret_name(name) and holds_secret(value):
            self._counts["secret"] += 1
            return SECRET_TEXT
        return self.redact(value)

    def redact_url(self, url: str) -> str:
        """Return `url` with userinfo dropped and personal data in host, path, query and fragment replaced.

        Scheme, host names, ordinary path segments and query keys stay readable; a component is
        percent-decoded before it is checked (so `jane%40example.com` is an email) and is left
        byte-for-byte as it was unless something in it was replaced. The value of a query or
        fragment pair whose key is secret becomes `[secret]` (`?user=jo&password=[secret]`,
        `#access_token=[secret]&token_type=bearer`).
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
            out += "?" + self._redact_pairs(query)
        if fragment is not None:
            out += "#" + self._redact_fragment(fragment)
        return out

    def _apply(self, rule: Rule, text: str) -> str:
        pieces: list[str] = []
        kept_from = search_from = 0
        while match := rule.pattern.search(text, search_from):
            length = rule.span(match)
            if not length:
                # Every pattern that can reject is bounded, so retrying one place on stays linear
                # and finds a card or IBAN that starts inside a rejected candidate.
                search_from = match.start() + 1
                continue
            pieces += (text[kept_from : match.start()], PLACEHOLDERS[rule.kind])
            # A shortened match (an IBAN or card followed by a stray group) rescans what it left.
            kept_from = search_from = match.start() + length
            self._counts[rule.kind] += 1
        if not pieces:
            return text
        pieces.append(text[kept_from:])
        return "".join(pieces)

    def _redact_named(self, text: str) -> str:
        pieces: list[str] = []
        kept_from = search_from = 0
        while named := NAMED.search(text, search_from):
            # A value that is not secret may itself hold `name=value` (`next=password:x`): look on
            # from its start, which keeps the scan linear.
            search_from = named.end()
            span = secret_value_span(text, search_from) if is_secret_name(named[1]) else None
            if span is None:
                continue
            pieces += (text[kept_from : span[0]], SECRET_TEXT)
            kept_from = search_from = span[1]
            self._counts["secret"] += 1
        if not pieces:
            return text
        pieces.append(text[kept_from:])
        return "".join(pieces)

    def _redact_fragment(self, fragment: str) -> str:
        """A `key=value&…` fragment (after a `#/route?` too) is redacted pair by pair, like a query."""
        route, question, pairs = fragment.partition("?")
        if question:
            return self._redact_component(route, _ENCODE_FRAGMENT) + "?" + self._redact_pairs(pairs)
        if "=" in fragment:
            return self._redact_pairs(fragment)
        return self._redact_component(fragment, _ENCODE_FRAGMENT)

    def _redact_pairs(self, pairs: str) -> str:
        return "&".join(self._redact_pair(pair) for pair in pairs.split("&"))

    def _redact_pair(self, pair: str) -> str:
        key, equals, value = pair.partition("=")
        secret = equals and is_secret_name(_percent_decode(key, form=True))
        if secret and holds_secret(_percent_decode(value, form=True)):
            self._counts["secret"] += 1
            return key + equals + SECRET_TEXT
        return (
            self._redact_component(key, _ENCODE_QUERY) + equals + self._redact_component(value, _ENCODE_QUERY)
        )

    def _redact_component(self, raw: str, encoding: dict[int, str]) -> str:
        decoded = _percent_decode(raw, form=encoding is _ENCODE_QUERY)
        redacted = self.redact(decoded)
        if redacted == decoded:
            return raw
        return redacted.translate(encoding)
