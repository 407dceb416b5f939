"""Slack formatting: untrusted text stays inert, our links survive, blocks respect Slack's limits."""

from __future__ import annotations

from pipeline.slack_text import (
    MAX_BLOCKS,
    MAX_SECTION,
    MAX_TOTAL,
    TRUNCATED,
    blocks,
    defang,
    fallback,
    to_mrkdwn,
)

URLS = ["https://sightline.example/o/0", "https://sightline.example/o/1"]


def test_untrusted_text_posts_no_mention_no_foreign_link_and_no_formatting():
    hostile = (
        "Hi <!channel> see <https://evil.example|click> *bold* _it_ ~x~ `c` &amp; https://evil.example/a"
    )
    digest = f"## Themes\n- **Checkout**: {defang(hostile)} [obs 1]"
    text = to_mrkdwn(digest, URLS)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "<https://evil" not in text and "https://evil" not in text  # no link, not even auto-linked
    assert "*bold*" not in text and "_it_" not in text and "~x~" not in text and "`c`" not in text
    assert "&amp;amp;" in text  # shown literally as "&amp;"
    assert "<https://sightline.example/o/1|[1]>" in text  # our own link, added after escaping
    assert text.startswith("*Themes*") and "*Checkout*" in text  # our own formatting


def test_citations_of_nothing_are_dropped():
    assert to_mrkdwn("see [obs 7] and [obs 0]", URLS) == "see  and <https://sightline.example/o/0|[0]>"


def test_a_30000_character_digest_splits_into_ordered_blocks_and_loses_nothing():
    lines = [f"- line {index:05} " + "x" * 80 for index in range(330)]
    text = "\n".join(lines)
    assert 28_000 < len(text) < 32_000
    out = blocks(text)
    assert all(len(block["text"]["text"]) <= MAX_SECTION for block in out) and len(out) <= MAX_BLOCKS
    assert "\n".join(block["text"]["text"] for block in out) == text


def test_past_38000_characters_only_the_marked_tail_is_lost():
    lines = [f"- line {index:05} " + "y" * 90 for index in range(500)]
    out = blocks("\n".join(lines))
    joined = "\n".join(block["text"]["text"] for block in out)
    assert len(joined) <= MAX_TOTAL and joined.endswith(TRUNCATED)
    kept = joined.removesuffix(TRUNCATED).rstrip().split("\n")
    assert kept == lines[: len(kept)] and len(kept) > 300


def test_a_huge_line_is_split_without_breaking_a_link():
    line = " ".join(["word"] * 700) + " <https://sightline.example/o/0|[0]> " + " ".join(["more"] * 400)
    out = blocks(line)
    assert all(len(block["text"]["text"]) <= MAX_SECTION for block in out)
    assert any("<https://sightline.example/o/0|[0]>" in block["text"]["text"] for block in out)


def test_fallback_text_is_plain_and_bounded():
    assert fallback("see <https://x.example/o/0|[0]>") == "see [0]"
    assert len(fallback("z" * 10_000)) == 3_000
