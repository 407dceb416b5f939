"""The content pages the scenarios visit: onboarding, a marketing site, its docs, a news article.

Built fresh on every load. Keys (`key=`) name the elements scenarios aim at; none of these pages
shows personal data except `welcome`, which echoes the address the user signed up with.
"""

from __future__ import annotations

from scenarios.dom import Node, el
from scenarios.pages import shell


def welcome(email: str) -> Node:
    return shell(
        "Notes",
        "Welcome",
        [("nav_app", "Your notes", "/app"), ("nav_help", "Help", "/help")],
        el("h1", "Welcome, Sam!"),
        el("p", f"We sent a confirmation link to {email}. You can start writing right away."),
        el("img", src="/img/welcome.png", alt="A notebook open on a desk"),
        el("h2", "Three things to try"),
        *(el("p", text) for text in _WELCOME_TIPS),
        el("h2", "Keyboard shortcuts"),
        el("p", _SHORTCUTS, key="shortcuts"),
        el("h2", "Works everywhere"),
        el("p", _EVERYWHERE),
        el("img", src="/img/devices.png", alt="Notes on a laptop, a tablet and a phone"),
        el("a", "Get started", key="get_started", href="/app", class_="button primary"),
    )


_WELCOME_TIPS = (
    "Write your first note. Everything is saved as you type, so there is no save button to hunt for, "
    "and every change is kept in the history for thirty days.",
    "Organise with tags instead of folders. Type a hash sign followed by a word anywhere in a note "
    "and it appears in the sidebar, where one click shows every note that carries it.",
    "Share a note with a link. People you invite can read it without an account, and you can revoke "
    "the link at any moment from the share menu in the top right corner of the note.",
)
_SHORTCUTS = (
    "Press Ctrl+K to search every note, Ctrl+N to start a new one and Ctrl+Shift+T to add a tag. "
    "The full list lives under Help, and you can change any shortcut in your settings."
)

_EVERYWHERE = (
    "Notes syncs between the browser, the desktop app and your phone. Changes made offline are merged "
    "when you reconnect, and a conflict never loses text: both versions are kept side by side."
)


def notes_app() -> Node:
    return shell(
        "Notes",
        "Your notes",
        [("nav_app", "Your notes", "/app"), ("nav_settings", "Settings", "/settings")],
        el("h1", "Your notes"),
        el("p", "No notes yet. Your first note is one click away.", key="empty"),
        el("button", "New note", key="new_note", type="button", class_="primary"),
        el("ul", key="note_list", class_="notes"),
    )


_ACME_NAV = [
    ("nav_product", "Product", "/product"),
    ("pricing", "Pricing", "/pricing"),
    ("docs", "Docs", "/docs"),
    ("nav_blog", "Blog", "/blog"),
]
_ACME_SECTIONS = (
    (
        "See every step of the funnel",
        "Follow visitors from the first page view to the paid plan and find the step where they give up. "
        "Break any step down by browser, country or campaign to see who struggles.",
        "Funnels update in real time, so a release that hurts sign-ups shows within the hour.",
    ),
    (
        "Replay what users saw",
        "Session replays show the clicks, the scrolling and the errors behind every drop in a chart. "
        "Jump from a funnel step straight to the sessions of the people who left there.",
        "Inputs are masked by default, and you decide which pages are recorded at all.",
    ),
    (
        "Ship features behind flags",
        "Roll a change out to one percent of users, watch the numbers, then release it to everyone. "
        "Flags work in the browser, on the server and in mobile apps with the same rules.",
        "Turning a flag off takes effect in seconds, without a deploy.",
    ),
    (
        "Ask the data in plain words",
        "Type a question and get a chart, with the query beside it so that you can check the answer. "
        "Save the chart to a dashboard and share it with the team in one click.",
        "Every answer links to the events it counted, so nobody has to take it on trust.",
    ),
    (
        "Keep the data at home",
        "Host it in your own cloud or in ours, in the EU or the US, with no sampling and no surprise bills. "
        "Export everything at any time in open formats.",
        "Security reviews get a short answer: the data never leaves the region you chose.",
    ),
)


def home() -> Node:
    sections = [
        el(
            "section",
            el("h2", heading),
            el("p", lead),
            el("img", src=f"/img/feature-{n}.png", alt=heading),
            el("p", more),
        )
        for n, (heading, lead, more) in enumerate(_ACME_SECTIONS)
    ]
    return shell(
        "Acme Analytics",
        "Home",
        _ACME_NAV,
        el("h1", "Product analytics that answers why"),
        el("p", "Charts tell you what happened. Acme shows you why, with replays, funnels and flags."),
        el("button", "Start free trial", key="trial", type="button", class_="primary"),
        *sections,
    )


def pricing() -> Node:
    plans = [
        el(
            "section",
            el("h2", name),
            el("p", price),
            el("p", blurb),
            el("button", "Choose " + name, type="button"),
        )
        for name, price, blurb in (
            ("Free", "$0 per month", "One million events a month, one project, community support."),
            ("Team", "$450 per month", "Ten million events, unlimited projects, replays kept for a year."),
            ("Enterprise", "Talk to us", "Single sign-on, audit logs, a dedicated engineer and a contract."),
        )
    ]
    intro = el("p", "Every plan starts with a thirty day trial of everything. No card needed.")
    return shell("Acme Analytics", "Pricing", _ACME_NAV, el("h1", "Pricing"), intro, *plans)


def docs() -> Node:
    topics = ("Install the snippet", "Capture events", "Identify users", "Build a funnel", "Record sessions")
    chapters = [
        el(
            "section",
            el("h2", topic),
            el("p", f"{topic} in a few minutes. " + _DOCS_LINE),
            key=f"chapter_{n}",
        )
        for n, topic in enumerate(topics)
    ]
    index = el("ul", *(el("li", el("a", topic, href=f"/docs/{n}")) for n, topic in enumerate(topics)))
    return shell(
        "Acme Analytics", "Docs", _ACME_NAV, el("h1", "Documentation"), el("p", _DOCS_LINE), index, *chapters
    )


_DOCS_LINE = (
    "Each guide lists what you need, the code to paste and how to check that the data arrives, "
    "with examples for the browser, the server and mobile apps. "
)
_ARTICLE_SENTENCES = (
    "The new line runs every six minutes at peak hours and every ten in the evening.",
    "Commuters in the northern districts gain almost a quarter of an hour each way.",
    "The city council approved the budget after three years of public hearings.",
    "Engineers tested the trains for four months without passengers before the opening.",
    "Fares stay the same, and the monthly pass now covers the night buses too.",
    "Local shops near the new stations report more visitors in the first weeks.",
    "Critics say the money would have done more for cycling lanes and bus priority.",
    "The next extension, to the airport, is planned for the end of the decade.",
)


def article() -> Node:
    """A long news article for reading on a phone: a headline, a byline and thirty paragraphs."""
    count = len(_ARTICLE_SENTENCES)
    paragraphs = [
        el("p", " ".join(_ARTICLE_SENTENCES[(n + k) % count] for k in range(3 + n % 3))) for n in range(30)
    ]
    nav = [
        ("nav_city", "City", "/city"),
        ("nav_sport", "Sport", "/sport"),
        ("nav_culture", "Culture", "/culture"),
    ]
    return shell(
        "Daily Example",
        "The new metro line opens",
        nav,
        el("h1", "The new metro line opens after six years of work", key="headline"),
        el("p", "By our transport reporter. 5 January 2026", key="byline"),
        el("img", src="/img/metro.jpg", alt="A train at the new central station"),
        *paragraphs,
    )
