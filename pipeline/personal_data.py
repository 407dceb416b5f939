"""What personal data looks like: values named as secrets, and the shapes of emails, IBANs, cards,
IPs, phones and long digit runs (DESIGN §4, Privacy). Used by `pipeline.redact.Redactor`.

Every pattern is compiled once, and every pattern is linear: quantifiers are bounded or anchored by
a lookbehind so a long run is tried from its start only. Each rule has a cheap check that skips it
when a text cannot hold a match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

# Secrets found by name first, then personal data found by shape (`card_like` after `card`).
KINDS = ("secret", "email", "phone", "card", "card_like", "iban", "ip", "number")
PLACEHOLDERS = {kind: f"[{kind.replace('_', '-')}]" for kind in KINDS}
SECRET_TEXT = PLACEHOLDERS["secret"]

DIGITS = "0123456789"

# --- Secret names -------------------------------------------------------------------------------

# Words of a name: "x-auth-token", "API_KEY", "creditCard", "APIKey" and "cvv2" split on separators,
# case changes and digits. Anything that is not an ASCII capital or digit counts as lower case, so
# "contraseña" stays one word.
_NAME_WORD = re.compile(r"[A-Z]+(?![^\W\dA-Z_])|[A-Z]?[^\W\dA-Z_]+|\d+")

# One lower-case word that says its value is secret: whole words, then compounds written as one
# word. Matching whole words keeps "passenger", "compass", "keyboard", "monkey" and "tokenize" out.
_SECRET_WORD = re.compile(
    r"pass|passwd|pwd?|passcode|passphrase|passwort|kennwort|senha|contrase[nñ]a"
    r"|token|jwt|bearer|csrf|xsrf|cookie|secrets?|credentials?|creds"
    r"|key|auth|authorization|session|sid|signature|sig"
    r"|card|cc|ccv|cvv|cvc|csc|exp|expiry|ssn|iban|pin|otp|totp|mfa"
    r"|[a-z]{0,30}(?:passwords?|passwd|pwd|token|secrets?|sessionid|sessid)"
    r"|(?:api|private|secret|access|auth|client|signing|encryption|session|license|master)key"
    r"|(?:credit|debit)card|(?:card|cc)(?:num|number|no)|(?:card|cc)exp"
)

# A last word that describes the secret rather than holding it: `token_type`, `card_brand`,
# `password_strength`, `$session_entry_url` name facts a model may need, not secrets.
_DESCRIPTORS = frozenset(
    {
        *("type", "types", "kind", "brand", "format", "count", "length", "len", "size", "strength"),
        *("policy", "label", "placeholder", "url", "uri", "path", "pathname", "host", "domain"),
        *("referrer", "referer", "ttl", "timeout", "status", "error", "required", "enabled", "visible"),
    }
)

# Every secret word contains one of these; a text without any of them cannot name a secret.
# Searched in a lower-case copy: with IGNORECASE the same search is several times slower.
SECRET_STEM = re.compile(
    r"pass|pw|token|jwt|bearer|csrf|xsrf|cookie|secret|cred|key|auth|sess|sid|sig"
    r"|card|cc|cv|csc|exp|ssn|iban|pin|otp|mfa|kennwort|senha|contrase"
)


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a field, key or label called `name` holds a secret (a password, token, key, card…).

    Case-, separator- and camelCase-insensitive: `password`, `Pass`, `pwd`, `access-token`,
    `API_KEY`, `apiKey`, `x-auth-token`, `client_secret`, `creditCard`, `CardNumber`, `cvv2`,
    `$session_id`, `PHPSESSID` are; `keyboard`, `monkey`, `passenger`, `compass`, `bypass`,
    `tokenize`, `author` are not, and neither is a name ending in a word that describes the secret
    (`token_type`, `card_brand`, `password_strength`).
    """
    words = [word.lower() for word in _NAME_WORD.findall(name)]
    if not words or (len(words) > 1 and words[-1] in _DESCRIPTORS):
        return False
    return any(_SECRET_WORD.fullmatch(word) for word in words)


# --- Shapes -------------------------------------------------------------------------------------

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
_CARD_GROUPS = r"(?<![\w.,+-])\d{4}(?:[ -]\d{3,6}){2,4}(?!\w|[.,]\d)"
_CARD = re.compile(r"(?<![\d.,+])\d{13,19}(?!\d|[.,]\d)|" + _CARD_GROUPS)
_CARD_GROUPED = re.compile(_CARD_GROUPS)
# How cards are printed: fours (the last group may be short), or Amex / Diners 4-6-5 and 4-6-4.
_CARD_LAYOUTS = frozenset({(4, 4, 4, 3), (4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4)})
_GROUP_SEPARATOR = re.compile(r"[ -]")

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
    if not 15 <= len(compact) <= 34 or sum(map(compact[4:].count, DIGITS)) * 2 < len(compact) - 4:
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


def _is_card_like(candidate: str) -> bool:
    """Laid out like a card, and not a rising or falling list of numbers (`2021 2022 2023 2024`)."""
    groups = _GROUP_SEPARATOR.split(candidate)
    if tuple(map(len, groups)) not in _CARD_LAYOUTS:
        return False
    numbers = list(map(int, groups))
    steps = list(pairwise(numbers))
    return not (all(a < b for a, b in steps) or all(a > b for a, b in steps))


def _card_like_span(match: re.Match[str]) -> int:
    return _longest_valid_prefix(match[0], _is_card_like)


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
    if not 9 <= sum(map(text.count, DIGITS)) <= 15:
        return 0
    if text[0] in "+(" or _NANP.fullmatch(text):
        return len(text)
    # "0.123456789" is a decimal, not a phone.
    return len(text) if text[0] == "0" and not (match[1] == "." and text.count(".") == 1) else 0


# --- Secret values in text ------------------------------------------------------------------------

# A name (a run of word characters, "$", "." or "-", as in `x-auth-token`, `$session_id`,
# `user.password`), an optional closing quote or bracket (`"card":`, `user[password]=`), then ":"
# or "=" (not "==" or "://") with at most three spaces either side: a longer gap is layout, and a
# value is never looked for on the next line.
NAMED = re.compile(r"(?<![\w$.-])([\w$.-]{1,64})[\"'\]]?[ \t]{0,3}(?:=(?!=)|:(?![:/]))[ \t]{0,3}")

# A run of non-whitespace, up to a `&name=` that starts the next pair of a query written in text.
_BARE = r"(?:[^\s&]|&(?![\w$.%\[\]-]{1,64}=))+"

# A quoted value to its closing quote (escapes allowed; bounded so an unclosed quote costs little),
# else a bare run.
_VALUE = re.compile(r""""((?:[^"\\\n]|\\.){1,2000})"|'((?:[^'\\\n]|\\.){1,2000})'|""" + _BARE)

# `Authorization: Bearer xyz` keeps its scheme readable; the credential after it is the secret.
_AUTH_SCHEME = re.compile(rf"(?:bearer|basic|digest|negotiate|token|jwt)[ \t]{{1,3}}({_BARE})", re.IGNORECASE)

# A bare value ends before trailing punctuation (`token=abc123,` or `(pin: 1234)`).
_TRAILING = ",;.:!?)]}>\"'"

# Values that hold nothing secret, trailing punctuation aside: a placeholder (so redacting twice
# changes nothing), a mask (`••••`, `****`), or an empty or boolean literal (`token: undefined` is
# worth seeing).
_NOT_SECRET = re.compile(
    "(?:"
    + "|".join(map(re.escape, PLACEHOLDERS.values()))
    + rf"|[-*•●·._ ]*|null|undefined|none|nil|true|false)[{re.escape(_TRAILING)}]*",
    re.IGNORECASE,
)

# `Bearer <token>` anywhere: one space after the word, then a run of token characters.
_BEARER = re.compile(r"(?<=bearer\s)(?<![\w-]bearer\s)[\w.~+/=-]{8,}(?![\w.~+/=-])", re.IGNORECASE)


def holds_secret(value: str) -> bool:
    return _NOT_SECRET.fullmatch(value.strip()) is None


def _token_span(match: re.Match[str]) -> int:
    """A token has a digit or a symbol; letters alone after "bearer" are prose ("bearer instrument")."""
    token = match[0]
    return len(token) if not token.isalpha() else 0


def secret_value_span(text: str, start: int) -> tuple[int, int] | None:
    """Where the value that starts at `start` (just after a secret name and its ":" or "=") lies.

    Inside the quotes of a quoted value; else the credential after an auth scheme word, or one run
    of non-whitespace without its trailing punctuation, widened to a grouped card, IBAN or phone
    number that starts there (`card: 4111 1111 1111 1111`). None when no value follows or the
    value holds no secret.
    """
    value = _VALUE.match(text, start)
    if value is None:
        return None
    if value.lastindex:  # quoted: what lies between the quotes
        return value.span(value.lastindex) if holds_secret(value[value.lastindex]) else None
    scheme = _AUTH_SCHEME.match(text, start)
    begin, end = scheme.span(1) if scheme else value.span()
    if not holds_secret(text[begin:end]):
        return None
    while end > begin and text[end - 1] in _TRAILING:
        end -= 1
    for shape in (_CARD, _IBAN, _PHONE):
        if grouped := shape.match(text, begin):
            end = max(end, grouped.end())
    return begin, end


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    applies: Callable[[str, int], bool]  # (text, digit count) -> can this text hold a match?
    span: Callable[[re.Match[str]], int] = _whole  # how much of a match is personal data; 0 = none


# Most specific first: an IBAN or a card must not be eaten digit by digit by the later rules, and
# a grouped card failing Luhn is card-like before the phone rule can take its last groups.
RULES = (
    Rule("secret", _BEARER, lambda text, _: "earer" in text or "EARER" in text, _token_span),
    Rule("email", _EMAIL, lambda text, _: "@" in text or "%40" in text),
    Rule("iban", _IBAN, lambda _, digits: digits >= 4, _iban_span),
    Rule("card", _CARD, lambda _, digits: digits >= 13, _card_span),
    Rule("card_like", _CARD_GROUPED, lambda _, digits: digits >= 13, _card_like_span),
    Rule("ip", _IPV4, lambda text, digits: digits >= 4 and "." in text),
    Rule("ip", _IPV6, lambda text, _: text.count(":") >= 2, _ipv6_span),
    Rule("phone", _PHONE, lambda _, digits: digits >= 9, _phone_span),
    Rule("number", _NUMBER, lambda _, digits: digits >= 8),
)
