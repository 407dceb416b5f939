"""The `where` grammar of the events list: a small, safe language parsed here, never passed to SQL.

    expression := term (("AND" | "OR") term)*        AND binds tighter than OR
    term       := "(" expression ")" | field op literal
    field      := event | distinct_id | person_id | session_id | timestamp | level | message | url
                  | properties.NAME                  NAME: letters, digits, _ and $
    op         := = | != | < | <= | > | >= | contains
    literal    := 'text' ('' inside is a quote) | a number | true | false

Anything else (a function call, a subquery, a comment, an unknown field) is refused with
`QueryRefused`, whose message names what was refused and where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.errors import InvalidField

FIELDS = frozenset(
    {"event", "distinct_id", "person_id", "session_id", "timestamp", "level", "message", "url"}
)
OPERATORS = ("<=", ">=", "!=", "=", "<", ">", "contains")
MAX_LENGTH = 1000
MAX_TERMS = 20
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|=|<|>)"
    r"|(?P<paren>[()])|(?P<word>[A-Za-z_$][A-Za-z0-9_$.]*))"
)
_PROPERTY = re.compile(r"properties\.[A-Za-z0-9_$]{1,200}")


class QueryRefused(InvalidField):
    """A `where` or `select` expression outside the grammar (an API 400 naming the parameter)."""

    def __init__(self, message: str, field: str = "where"):
        super().__init__(field, message)


@dataclass(frozen=True)
class Comparison:
    field: str  # a name of FIELDS, or properties.NAME
    op: str
    value: str | float | bool


@dataclass(frozen=True)
class Either:
    """`any`: OR of the parts; otherwise AND."""

    parts: tuple[Comparison | Either, ...]
    any: bool


Condition = Comparison | Either


def check_field(name: str, param: str = "where") -> str:
    """`name` if it is a field of the grammar; `QueryRefused` otherwise."""
    if name in FIELDS or _PROPERTY.fullmatch(name):
        return name
    raise QueryRefused(f"unknown field {name[:60]!r}; use one of {sorted(FIELDS)} or properties.NAME", param)


def parse_where(text: str) -> Condition:
    """The condition `text` says; `QueryRefused` naming the problem when it is outside the grammar."""
    if len(text) > MAX_LENGTH:
        raise QueryRefused(f"where is {len(text)} characters; at most {MAX_LENGTH}")
    parser = _Parser(_tokens(text))
    found = parser.expression()
    if parser.at < len(parser.tokens):
        raise QueryRefused(f"unexpected {parser.tokens[parser.at][1][:40]!r} after a complete expression")
    return found


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise QueryRefused(f"cannot read {text[at : at + 20].strip()!r} at character {at}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.at, self.terms = tokens, 0, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, what: str) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QueryRefused(f"the expression ends where {what} was expected")
        self.at += 1
        return token

    def expression(self) -> Condition:
        parts = [self.conjunction()]
        while self._keyword("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Either(tuple(parts), any=True)

    def conjunction(self) -> Condition:
        parts = [self.term()]
        while self._keyword("and"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Either(tuple(parts), any=False)

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].lower() == word:
            self.at += 1
            return True
        return False

    def term(self) -> Condition:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryRefused(f"more than {MAX_TERMS} comparisons in one where")
        kind, text = self.take("a field")
        if (kind, text) == ("paren", "("):
            inner = self.expression()
            if self.take("')'") != ("paren", ")"):
                raise QueryRefused("a '(' is not closed")
            return inner
        if kind != "word":
            raise QueryRefused(f"expected a field, found {text[:40]!r}")
        field = check_field(text)
        kind, op = self.take("an operator")
        if kind not in ("op", "word") or op.lower() not in OPERATORS:
            raise QueryRefused(f"unknown operator {op[:20]!r} after {field}; use one of {list(OPERATORS)}")
        return Comparison(field, op.lower(), self.literal())

    def literal(self) -> str | float | bool:
        kind, text = self.take("a value")
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        if kind == "word" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise QueryRefused(f"expected a quoted value or a number, found {text[:40]!r}")
