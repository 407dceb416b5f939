"""The six scripted sessions: what each user does, second by second, and what it should reveal.

Each `play_*` function drives a `SessionBuilder` and marks the moments a reader (or a test) should
find in the rendered timeline. `RECIPES` lists them with their description and personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scenarios import content, pages
from scenarios.builder import SessionBuilder
from scenarios.dom import el

JANE_EMAIL, JANE_CARD = "jane.doe@example.com", "4242 4242 4242 4242"
SHOP_PHONE, SHOP_EMAIL = "+1 (415) 555-0132", "support@shop.example"
SAM_EMAIL = "sam.lee@example.org"
PRIYA_EMAIL = "priya.shah@example.com"
ALEX_EMAIL, ALEX_PHONE, ALEX_IBAN = (
    "alex.morgan@example.net",
    "+44 20 7946 0958",
    "DE89 3704 0044 0532 0130 00",
)

_PAY_ERROR = "TypeError: Cannot read properties of undefined (reading 'token')"
_PAY_TRACE = (
    "at pay (https://shop.example/app.js:10:5)",
    "at HTMLFormElement.onSubmit (https://shop.example/app.js:42:9)",
)


def play_checkout_js_error(b: SessionBuilder) -> None:
    b.load("https://shop.example/cart", pages.cart())
    b.wait(2.2)
    b.move_to("subtotal")
    b.wait(1.6)
    b.move_to("support")
    b.wait(2.4)
    b.mark("checkout_click", b.click("checkout"))
    b.wait(0.6)
    b.load("https://shop.example/checkout", pages.checkout())
    b.wait(2.0)
    b.type_text("email", JANE_EMAIL)
    b.wait(0.9)
    b.type_text("card", JANE_CARD)
    b.wait(0.7)
    b.type_text("name", "Jane Doe")
    b.wait(1.4)
    pay = b.click("pay")
    b.mark("pay_click", pay)
    b.mark("js_error", b.console_error(_PAY_ERROR, trace=_PAY_TRACE, at_ms=pay + b.rng.randint(30, 200)))
    b.wait(2.0)
    b.mark("rage_click", _hammer(b, "pay", times=5))
    b.wait(23.0)
    b.move_to_point(640, 4)  # towards the tab bar, to close the tab


def _hammer(b: SessionBuilder, key: str, *, times: int) -> int:
    """Clicks in quick succession on the same spot, each failing like the first; returns the first."""
    first = 0
    for count in range(times):
        clicked = b.click(key, jitter=3)
        b.console_error(_PAY_ERROR, trace=_PAY_TRACE, at_ms=clicked + b.rng.randint(20, 60))
        first = first or clicked
        if count < times - 1:
            b.now += b.rng.randint(70, 110)
    return first


def play_smooth_signup(b: SessionBuilder) -> None:
    b.load("https://notes.example/signup", pages.signup())
    b.wait(2.5)
    for key, value in (("full_name", "Sam Lee"), ("email", SAM_EMAIL), ("password", "correct-horse-42")):
        _focus_styled(b, key)
        b.type_text(key, value)
        b.wait(0.8)
    created = b.click("create")
    busy = {"disabled": "", "aria-busy": "true"}
    b.mutate(attrs=[("create", busy)], text=[("create", "Creating account…")], at_ms=created + 90)
    b.wait(1.0)
    b.load("https://notes.example/welcome", content.welcome(SAM_EMAIL))
    b.wait(3.0)
    b.scroll_to(180)
    b.wait(3.5)
    b.scroll_to(420)
    b.wait(2.5)
    clicks = b.triple_click("shortcuts")
    b.mark("text_selection", clicks[0])
    popover = el("div", el("button", "Copy"), el("button", "Share"), key="popover", role="toolbar")
    b.mutate(add=[("main", popover)], at_ms=clicks[1] + 35)
    b.mutate(attrs=[("popover", {"style": "left: 412px; top: 388px;"})], at_ms=clicks[2] + 30)
    b.wait(2.5)
    started = b.click("get_started")
    b.mutate(remove=["popover"], at_ms=started + 20)
    b.wait(0.45)
    b.load("https://notes.example/app", content.notes_app())
    b.wait(2.5)
    b.move_to("empty")
    b.wait(3.0)
    b.move_to("new_note")
    b.wait(4.5)
    b.move_to("nav_settings")


def _focus_styled(b: SessionBuilder, key: str) -> None:
    """Click into a field whose label floats on focus, so the click visibly changes the page."""
    clicked = b.click(key)
    b.mutate(attrs=[(f"{key}_field", {"class": "field is-focused"})], at_ms=clicked + 12)
    b.wait(0.3)


def play_dead_click_disabled(b: SessionBuilder) -> None:
    b.load("https://app.tasks.example/settings", pages.settings(PRIYA_EMAIL))
    b.wait(3.0)
    b.move_to("hint")
    b.wait(1.8)
    b.erase("display_name", 2)
    b.type_text("display_name", "Shah")
    b.wait(1.3)
    b.mark("dead_click", b.click("save"))
    b.wait(3.0)
    b.mark("dead_click_2", b.click("save", jitter=4))
    b.wait(2.5)
    b.move_to("time_zone")
    b.wait(2.0)
    b.type_text("display_name", ".")
    b.wait(0.8)
    b.erase("display_name", 1)
    b.wait(2.2)
    b.move_to("save")
    b.wait(8.0)
    b.move_to("nav_tasks")
    b.wait(12.0)
    b.move_to_point(700, 3)


def play_u_turn(b: SessionBuilder) -> None:
    b.load("https://acme.example/", content.home())
    b.wait(2.5)
    b.move_to("trial")
    b.wait(1.5)
    b.scroll_to(380)
    b.wait(3.0)
    b.click("pricing")
    b.wait(0.5)
    arrived = b.load("https://acme.example/pricing", content.pricing())
    b.mark("arrive_pricing", arrived)
    b.move_to_point(96, 6)  # towards the browser's Back button
    b.now = arrived + 2500
    b.mark("u_turn", b.load("https://acme.example/", content.home()))
    b.wait(2.0)
    b.scroll_to(650)
    b.wait(4.0)
    b.scroll_to(1400)
    b.wait(5.0)
    b.scroll_to(0)
    b.wait(2.0)
    b.click("docs")
    b.wait(0.5)
    b.load("https://acme.example/docs", content.docs())
    b.wait(3.0)
    b.scroll_to(500)
    b.wait(5.0)
    b.move_to("chapter_2")
    b.wait(4.0)
    b.scroll_to(760)
    b.wait(3.0)
    b.move_to("chapter_3")


def play_mobile_scroll(b: SessionBuilder) -> None:
    b.load("https://news.example/2026/01/05/metro-line", content.article(), width=390, height=844)
    b.wait(3.5)
    b.mark("first_swipe", b.swipe(520))
    b.wait(0.4)
    b.resize(390, 900)  # the address bar hides on the first scroll down
    for pause, distance in _READING:
        b.wait(pause)
        b.swipe(distance)


# (seconds spent reading, then the next flick): mostly onwards, twice back up to re-read.
_READING = (
    (4.0, 640),
    (5.5, 700),
    (3.0, -260),
    (6.5, 760),
    (4.5, 820),
    (5.0, 600),
    (2.5, -380),
    (6.0, 900),
    (5.5, 720),
    (4.0, 880),
    (7.0, 640),
)


def play_form_email(b: SessionBuilder) -> None:
    b.load("https://studio.example/contact", pages.contact())
    b.wait(3.2)
    b.type_text("email", ALEX_EMAIL)
    b.wait(0.9)
    b.type_text("phone", ALEX_PHONE)
    b.wait(1.4)
    b.type_text("message", f"Hello! We need a quote for a new shop website. Our account: {ALEX_IBAN}. Alex")
    b.wait(2.0)
    sent = b.click("send")
    b.mark("submit", sent)
    b.mutate(attrs=[("send", {"disabled": ""})], at_ms=sent + 25)
    thanks = el("p", f"Thanks! We will reply to {ALEX_EMAIL} within a day.", key="thanks", role="status")
    b.mutate(add=[("contact_form", thanks)], at_ms=sent + 640)
    b.wait(1.5)
    b.move_to("thanks")
    b.wait(6.0)
    b.move_to("nav_work")
    b.wait(4.0)


@dataclass(frozen=True)
class Recipe:
    description: str
    pii: tuple[str, ...]
    play: Callable[[SessionBuilder], None]


RECIPES: dict[str, Recipe] = {
    "checkout-js-error": Recipe(
        "A shopper fills in the checkout, Pay throws a JavaScript error, they hammer Pay, then give up.",
        (SHOP_PHONE, SHOP_EMAIL, JANE_EMAIL, JANE_CARD),
        play_checkout_js_error,
    ),
    "smooth-signup": Recipe(
        "A new user signs up, reads the welcome page, copies a tip and moves on to the app without a hitch.",
        (SAM_EMAIL,),
        play_smooth_signup,
    ),
    "dead-click-disabled": Recipe(
        "A user edits their display name but the Save button stays disabled, so two clicks on it do nothing.",
        (PRIYA_EMAIL,),
        play_dead_click_disabled,
    ),
    "u-turn": Recipe(
        "A visitor opens Pricing, goes straight back to the home page, then reads on and opens the docs.",
        (),
        play_u_turn,
    ),
    "mobile-scroll": Recipe(
        "A reader on a phone scrolls through a long news article with flicks, without tapping anything.",
        (),
        play_mobile_scroll,
    ),
    "form-email": Recipe(
        "A visitor sends the contact form with their email, phone and IBAN; the page thanks them by email.",
        (ALEX_EMAIL, ALEX_PHONE, ALEX_IBAN),
        play_form_email,
    ),
}
