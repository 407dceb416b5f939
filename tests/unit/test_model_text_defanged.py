"""What the model writes reaches Slack as inert as recording text: no live link, no foreign markup."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pipeline.digests import digest_markdown, parse_synthesis, slack_output
from pipeline.slack_text import report_card

NOW = datetime(2026, 11, 22, 8, tzinfo=UTC)
ANSWER = json.dumps(
    {
        "markdown": "## Login trouble\n- Visitors were sent to https://evil.example/login [obs 0]\n"
        "- **Try** <https://x|click> or HTTP://Other.example/a?b=1&c=2 <!channel>"
    }
)


def posted(markdown: str) -> str:
    """Everything a Slack message of this digest carries: the notification text and every block."""
    rendered = slack_output(markdown, ["o-1"], "https://sightline.example/")
    return "\n".join([rendered["slack"], *(block["text"]["text"] for block in rendered["slack_blocks"])])


def test_a_url_the_model_echoes_into_a_digest_is_posted_as_text_not_as_a_link():
    markdown = parse_synthesis(ANSWER)
    assert "https://evil.example" not in markdown and "https[:]//evil.example/login" in markdown
    text = posted(digest_markdown("Logins", [], 1, NOW, "UTC", markdown))
    assert "://evil" not in text and "https[:]//evil.example/login" in text
    assert "<https://x" not in text and "&lt;https[:]//x|click&gt;" in text
    assert "://Other" not in text and "<!channel>" not in text
    assert "<https://sightline.example/observations/o-1|[0]>" in text  # our own link, the only one
    assert "*Login trouble*" in text and "*Try*" in text  # the model's Markdown still formats


def test_text_that_reaches_slack_unparsed_is_defanged_there_too():
    text = posted("Model said: see https://evil.example/login and <https://x|click> [obs 0]")
    assert "://evil" not in text and "<https://x" not in text
    assert text.count("<https://") == 1  # ours


def test_slack_links_only_what_we_link_in_every_section():
    rendered = slack_output("see evil.example/login and www.evil.example", [], "https://s.example")
    assert all(block["text"]["verbatim"] is True for block in rendered["slack_blocks"])


def test_a_model_written_report_title_and_summary_are_defanged_on_the_card():
    card = report_card(
        "Go to https://evil.example/login", "<https://x|click> then https://y.example", 1.5, 3, ["s"]
    )
    assert "://" not in card and "<https" not in card
