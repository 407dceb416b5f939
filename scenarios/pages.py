"""The form pages the scenarios visit, and the page shell every page shares.

Pages are built fresh on every load (a page load gets new node ids).

Keys (`key=`) name the elements scenarios aim at. Every email, phone number, card number or IBAN
shown here must also be listed in the owning scenario's `pii`.
"""

from __future__ import annotations

from scenarios.dom import Node, document, el, style

_CSS = (
    "body { margin: 0; font-family: system-ui, sans-serif; color: #1f2328; }"
    "header { display: flex; padding: 20px 32px; border-bottom: 1px solid #d0d7de; }"
    "nav a { margin-right: 24px; } main { max-width: 720px; margin: 0 auto; padding: 32px 0; }"
    "label { display: block; font-weight: 600; } input, textarea { width: 420px; padding: 10px; }"
    "button { padding: 10px 24px; border-radius: 6px; } button[disabled] { opacity: .5; }"
    "footer { padding: 24px 32px; color: #59636e; }"
)


def shell(site: str, title: str, nav: list[tuple[str, str, str]], *main: Node) -> Node:
    """A whole document: head with title, meta, style and scripts; header nav; main; footer."""
    head = el(
        "head",
        el("meta", charset="utf-8"),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("title", f"{title} · {site}"),
        style(_CSS),
        el("script", src="/static/app.js", defer=True),
        el("script", "SCRIPT_PLACEHOLDER"),
    )
    links = [el("a", label, key=key, href=href) for key, label, href in nav]
    header = el("header", el("a", site, key="logo", href="/", class_="brand"), el("nav", *links))
    footer = el("footer", el("p", f"© 2026 {site}. All rights reserved."))
    body = el("body", header, el("main", *main, key="main"), footer)
    return document(el("html", head, body, lang="en"))


def field(key: str, label: str, kind: str, **attrs: str | bool) -> Node:
    control = "textarea" if kind == "textarea" else "input"
    extra = {} if kind == "textarea" else {"type": kind}
    return el(
        "div",
        el("label", label, for_=key),
        el(control, key=key, id=key, name=key, **extra, **attrs),
        key=f"{key}_field",
        class_="field",
    )


_SHOP_NAV = [
    ("nav_shop", "Shop", "/shop"),
    ("nav_cart", "Cart", "/cart"),
    ("nav_account", "Account", "/account"),
]


def cart() -> Node:
    return shell(
        "Shop Example",
        "Your cart",
        _SHOP_NAV,
        el("h1", "Your cart"),
        el(
            "ul",
            el("li", "Trail running shoes, size 42: $129.00"),
            el("li", "Merino socks, two pairs: $24.00"),
            class_="cart-items",
        ),
        el("p", "Subtotal: $153.00. Shipping is free over $100.", key="subtotal"),
        el("button", "Checkout", key="checkout", type="button", class_="primary"),
        el("p", "Questions? Call +1 (415) 555-0132 or mail support@shop.example", key="support"),
    )


def checkout() -> Node:
    form = el(
        "form",
        field("email", "Email", "email", autocomplete="email"),
        field("card", "Card number", "text", inputmode="numeric", autocomplete="cc-number"),
        field("name", "Name on card", "text", autocomplete="cc-name"),
        el("p", "Total: $153.00", key="total"),
        el("button", "Pay", key="pay", type="submit", class_="primary"),
        key="payment",
        action="/checkout",
        method="post",
    )
    return shell("Shop Example", "Checkout", _SHOP_NAV, el("h1", "Checkout"), form)


NOTES_NAV = [("nav_features", "Features", "/features"), ("nav_login", "Log in", "/login")]


def signup() -> Node:
    form = el(
        "form",
        field("full_name", "Full name", "text", autocomplete="name"),
        field("email", "Email", "email", autocomplete="email"),
        field("password", "Password", "password", autocomplete="new-password"),
        el("button", "Create account", key="create", type="submit", class_="primary"),
        key="signup_form",
    )
    intro = el("p", "Start writing in seconds. Free for personal use, no card required.")
    return shell("Notes", "Sign up", NOTES_NAV, el("h1", "Create your account"), intro, form)


def settings(email: str) -> Node:
    """A profile form whose Save button stays disabled: the bug the dead-click scenario shows."""
    form = el(
        "form",
        field("display_name", "Display name", "text", value="Priya S."),
        field("account_email", "Email", "email", value=email, readonly=True),
        field("time_zone", "Time zone", "text", value="Europe/Berlin"),
        el("p", "Your display name appears on tasks you create and on comments.", key="hint"),
        el(
            "button",
            "Save changes",
            key="save",
            type="submit",
            disabled=True,
            aria_disabled="true",
            class_="primary",
        ),
        key="profile_form",
    )
    nav = [
        ("nav_tasks", "Tasks", "/tasks"),
        ("nav_team", "Team", "/team"),
        ("nav_settings", "Settings", "/settings"),
    ]
    return shell("Tasks", "Settings", nav, el("h1", "Profile settings"), form)


def contact() -> Node:
    form = el(
        "form",
        field("email", "Your email", "email", autocomplete="email", required=True),
        field("phone", "Phone (optional)", "tel", autocomplete="tel"),
        field("message", "How can we help?", "textarea", rows="6"),
        el("button", "Send", key="send", type="submit", class_="primary"),
        key="contact_form",
    )
    intro = el("p", "Tell us about your project and we will get back to you within one working day.")
    nav = [
        ("nav_work", "Work", "/work"),
        ("nav_about", "About", "/about"),
        ("nav_contact", "Contact", "/contact"),
    ]
    return shell("Studio Example", "Contact", nav, el("h1", "Contact us"), intro, form)
