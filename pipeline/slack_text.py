"""Markdown → Slack mrkdwn and blocks (DESIGN §8, reference posthog-replay-vision.md §7.5). Pure.

Observation text is untrusted: before it goes into a digest (to the model, or straight into the
extractive one) `defang()` strips Slack formatting characters and breaks URLs, so it can neither
format, link nor mention. What the model writes is untrusted too (it may echo a URL from a
recording): `defang_links()` breaks its URLs and keeps its Markdown. `to_mrkdwn()` then escapes
`& < >` and breaks every URL over the whole digest before it adds our own links (`[obs N]` → the
observation), so no `<!channel>`, `<url|label>` or bare URL survives from any text, and `blocks()`
marks its sections `verbatim` so Slack does not link-ify what looks like a domain either. `blocks()`
splits at line boundaries into sections of at most 3,000 characters, at most 49 of them and 38,000
characters in all, with a visible truncation marker.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_SECTION = 3_000
MAX_BLOCKS = 49
MAX_TOTAL = 38_000
TRUNCATED = "…_(truncated)_"
FALLBACK_CHARS = 3_000

_OBS = re.compile(r"\[obs (\d+)\]")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_SCHEME = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*)://")
_FORMATTING = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})


def defang(text: str) -> str:
    """Untrusted text made inert for Slack: no formatting characters, no clickable URLs, one line."""
    return defang_links(" ".join(text.split()).translate(_FORMATTING))


def defang_links(text: str) -> str:
    """Every URL broken (`https[:]//evil.example`) so that it shows as text; lines and Markdown kept."""
    return _SCHEME.sub(lambda match: f"{match.group(1)}[:]//", text)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str, observation_urls: Sequence[str]) -> str:
    """Escape and break URLs, then turn our Markdown into mrkdwn: headings and **bold** to *bold*,
    [obs N] to links (ours, the only ones)."""
    text = defang_links(escape(markdown))
    text = _HEADING.sub(lambda match: f"*{match.group(1)}*", text)
    text = _BOLD.sub(lambda match: f"*{match.group(1)}*", text)

    def link(match: re.Match) -> str:
        index = int(match.group(1))
        if 0 <= index < len(observation_urls):
            return f"<{observation_urls[index]}|[{index}]>"
        return ""  # a citation of nothing is dropped

    return _OBS.sub(link, text)


def truncate(text: str, limit: int = MAX_TOTAL) -> str:
    """At most `limit` characters: cut at the last line break before it, with a visible marker."""
    if len(text) <= limit:
        return text
    room = limit - len(TRUNCATED) - 1
    cut = text.rfind("\n", 0, room)
    cut = cut if cut > 0 else room
    return text[:cut].rstrip() + "\n" + TRUNCATED


def _pieces(line: str) -> list[str]:
    """A line longer than a section, split at spaces where possible (never inside a <link>)."""
    pieces = []
    while len(line) > MAX_SECTION:
        cut = line.rfind(" ", 0, MAX_SECTION)
        opened = line.rfind("<", 0, cut if cut > 0 else MAX_SECTION)
        if opened > line.rfind(">", 0, cut if cut > 0 else MAX_SECTION):
            cut = opened  # do not split a link
        cut = cut if cut > 0 else MAX_SECTION
        pieces.append(line[:cut])
        line = line[cut:].lstrip()
    return [*pieces, line]


def blocks(mrkdwn: str) -> list[dict]:
    """Section blocks in order, each ≤3,000 chars, split at line boundaries; ≤49 blocks, ≤38,000 chars."""
    text = truncate(mrkdwn)
    sections: list[str] = []
    current = ""
    for line in (piece for raw in text.split("\n") for piece in _pieces(raw)):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MAX_SECTION:
            sections.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        sections.append(current)
    if len(sections) > MAX_BLOCKS:
        sections = [*sections[: MAX_BLOCKS - 1], TRUNCATED]
    return [section(text) for text in sections if text]


def section(mrkdwn: str) -> dict:
    """A section block; `verbatim`: Slack links only our `<url|label>`, never a bare domain or name."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn, "verbatim": True}}


def fallback(mrkdwn: str) -> str:
    """The notification text sent with the blocks: the start of the message, without link syntax."""
    plain = re.sub(r"<[^|>]+\|([^>]+)>", r"\1", mrkdwn)
    return plain if len(plain) <= FALLBACK_CHARS else plain[: FALLBACK_CHARS - 1] + "…"


def report_card(
    title: str | None, summary: str | None, weight: float, signal_count: int, scanners: Sequence[str | None]
) -> str:
    """A ready report's Slack card: the title, its weight and sources, the summary's first line."""
    first_line = summary.splitlines()[0] if summary else ""
    counts = f"weight {weight:g} · {signal_count} signals"
    names = sorted({str(name) for name in scanners if name})
    if names:
        counts += " · from " + ", ".join(names[:5])
    heading = escape(defang(title or "Report"))
    return f"*{heading}*\n{escape(defang(counts))}\n{escape(defang(first_line)[:600])}"
