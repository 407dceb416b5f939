"""The redactor: personal data in rendered text and URLs becomes typed placeholders (DESIGN §4)."""

from __future__ import annotations

import pytest

from pipeline.redact import KINDS, Redactor


def redact(text: str) -> str:
    return Redactor().redact(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Contact jane.doe@example.com for help.", "Contact [email] for help."),
        ("Signed in as <Jane.Doe+shop@mail.example.co.uk>", "Signed in as <[email]>"),
        ("Welcome back, josé.garcía@correo.example.es!", "Welcome back, [email]!"),
        ("href=/invite?to=jane%40example.com", "href=/invite?to=[email]"),
    ],
)
def test_emails_in_sentences_become_email_placeholders(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Transfer to GB82 WEST 1234 5698 7654 32 by Friday", "Transfer to [iban] by Friday"),
        ("Pay to DE89370400440532013000.", "Pay to [iban]."),
        ("Account MT84MALT011000012345MTLCAST001S", "Account [iban]"),
        ("typed gb82west12345698765432 in lower case", "typed [iban] in lower case"),
        ("Pay BE68 5390 0754 7034 THEN confirm", "Pay [iban] THEN confirm"),
    ],
)
def test_ibans_passing_mod_97_become_iban_placeholders(text, expected):
    assert redact(text) == expected


def test_iban_shaped_text_failing_mod_97_is_not_an_iban():
    assert redact("Code GB82 WEST 1234 5698 7654 33 expired") == "Code GB82 WEST 1234 5698 7654 33 expired"


def test_iban_shaped_words_are_not_ibans():
    assert redact("Ticket AB12 WILL TAKE SOME TIME and ab12cdefghijklmnop") == (
        "Ticket AB12 WILL TAKE SOME TIME and ab12cdefghijklmnop"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Card 4111 1111 1111 1111 was declined", "Card [card] was declined"),
        ("Paid with 5500-0000-0000-0004.", "Paid with [card]."),
        ("Amex 3782 822463 10005 expires 12/27", "Amex [card] expires 12/27"),
        ("number=4012888888881881&qty=123", "number=[card]&qty=123"),
        ("Card 4111 1111 1111 1111 2027", "Card [card] 2027"),
    ],
)
def test_card_numbers_passing_luhn_become_card_placeholders(text, expected):
    assert redact(text) == expected


def test_two_cards_side_by_side_are_both_replaced():
    assert redact("4111 1111 1111 1111 5500 0000 0000 0004") == "[card] [card]"


def test_grouped_card_number_failing_luhn_is_card_like_not_a_card():
    redactor = Redactor()
    assert redactor.redact("Card 4111 1111 1111 1112 was declined") == "Card [card-like] was declined"
    assert redactor.manifest == {"card_like": 1}


def test_ungrouped_card_number_failing_luhn_is_still_a_long_number():
    assert redact("Card 4111111111111112 was declined") == "Card [number] was declined"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Request from 192.168.1.100 blocked", "Request from [ip] blocked"),
        ("upstream 10.0.0.1:8080 timed out", "upstream [ip]:8080 timed out"),
        ("client 2001:0db8:85a3:0000:0000:8a2e:0370:7334 connected", "client [ip] connected"),
        ("client 2001:db8::8a2e:370:7334 connected", "client [ip] connected"),
        ("bound to ::1 and fe80::1", "bound to [ip] and [ip]"),
    ],
)
def test_ip_addresses_become_ip_placeholders(text, expected):
    assert redact(text) == expected


def test_dotted_quads_with_an_octet_above_255_are_not_ip_addresses():
    assert redact("build 1.2.300.4") == "build 1.2.300.4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call us at +1 (415) 555-0132 today", "Call us at [phone] today"),
        ("London office: +44 20 7946 0958.", "London office: [phone]."),
        ("Support 415-555-0132 or 415.555.0132", "Support [phone] or [phone]"),
        ("Toll free 1-800-555-0132", "Toll free [phone]"),
        ("Portable 06 12 34 56 78 / +33 6 12 34 56 78", "Portable [phone] / [phone]"),
        ("Mobiel 06-12345678", "Mobiel [phone]"),
        ("tel:+14155550132", "tel:[phone]"),
        ("Phone (415) 555-0132", "Phone [phone]"),
    ],
)
def test_phone_numbers_become_phone_placeholders(text, expected):
    assert redact(text) == expected


def test_bare_ten_digit_phone_is_caught_as_a_long_number():
    assert redact("Rappel au 0612345678 demain") == "Rappel au [number] demain"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Order 123456789 confirmed", "Order [number] confirmed"),
        ("Order #123456789 confirmed", "Order #[number] confirmed"),
        ("Your code is 12345678", "Your code is [number]"),
        ("pi is 3.14159265", "pi is 3.[number]"),
    ],
)
def test_long_digit_runs_become_number_placeholders(text, expected):
    assert redact(text) == expected


def test_digit_runs_glued_to_identifiers_are_left_alone():
    text = "class=jsx-123456789 id=user_123456789 ref=abc123456789"
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Total $1,299.00 (was €49, now 1.299,00 €)",
        "© 2024 Example Inc.",
        "Delivered 2024-10-01, renews 01/02/2025",
        "Updated 2024-10-01 10:45:00",
        "Meeting at 10:45, ends 12:30:15",
        "Running v2.14.3 on node 1.20.1, Chrome/120.0.6099.109",
        "12 items in cart, page 404",
        "[t=12] click button#checkout, [t=12.5] scroll 45%",
        "margin: 0 8px 16px 24px; rgba(0, 0, 0, 0.5); transform: translate(-50%, 120px); z-index: 9999",
        "viewport 1920x1080 at 1280px",
        "a::before, ::-webkit-scrollbar and std::vector",
        "color: #ff5733; background: #1E90FF; border-color: #00000080",
        "session 123e4567-e89b-12d3-a456-426614174000",
        "SESSION 123E4567-E89B-12D3-A456-426614174000",
        "id 12345678-1234-5678-1234-567812345678",
        "Revenue 2021 2022 2023 2024",
        "Pages 10 11 12 13 14 15",
        "Call 555-0132 after 5",
        "ratio 0.5 and 12.50 13.75 14.00",
    ],
)
def test_ordinary_numbers_are_not_redacted(text):
    redactor = Redactor()
    assert redactor.redact(text) == text
    assert redactor.manifest == {}


def test_manifest_counts_replacements_by_kind_in_kinds_order():
    redactor = Redactor()
    redactor.redact("Order 123456789 from 10.0.0.1 for jane@example.com")
    redactor.redact("Call 415-555-0132 or mail bob@example.org, card 4111 1111 1111 1111")
    assert redactor.manifest == {"email": 2, "phone": 1, "card": 1, "ip": 1, "number": 1}
    assert list(redactor.manifest) == [kind for kind in KINDS if kind in redactor.manifest]


def test_new_redactor_has_an_empty_manifest():
    assert Redactor().manifest == {}


def test_manifest_is_a_copy_the_caller_cannot_change():
    redactor = Redactor()
    redactor.redact("jane@example.com")
    redactor.manifest["email"] = 99
    assert redactor.manifest == {"email": 1}


def test_url_query_email_is_replaced_and_other_values_kept():
    redactor = Redactor()
    url = "https://shop.example/checkout?email=jane%40example.com&step=2"
    assert redactor.redact_url(url) == "https://shop.example/checkout?email=[email]&step=2"
    assert redactor.manifest == {"email": 1}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/checkout?email=JANE%40EXAMPLE.COM", "/checkout?email=[email]"),
        (
            "https://x.example/s?q=jane+doe%40mail.example.com&page=2",
            "https://x.example/s?q=jane+[email]&page=2",
        ),
        ("https://x.example/c?phone=%2B1%20415%20555%200132", "https://x.example/c?phone=[phone]"),
        ("https://x.example/t?order=123456789&qty=3", "https://x.example/t?order=[number]&qty=3"),
        ("https://x.example/p?name=%C3%A9l%C3%A9na&id=42", "https://x.example/p?name=%C3%A9l%C3%A9na&id=42"),
    ],
)
def test_url_query_values_are_decoded_before_redaction(url, expected):
    assert Redactor().redact_url(url) == expected


def test_url_path_segments_with_personal_data_are_replaced():
    url = "https://shop.example/users/jane%40example.com/orders/123456789/invoice"
    assert Redactor().redact_url(url) == "https://shop.example/users/[email]/orders/[number]/invoice"


def test_url_userinfo_is_stripped_entirely():
    assert (
        Redactor().redact_url("https://bob:s3cr@t@shop.example:8443/cart") == "https://shop.example:8443/cart"
    )


def test_url_with_ip_host_replaces_the_host():
    assert Redactor().redact_url("http://192.168.1.10/admin?tab=users") == "http://[ip]/admin?tab=users"


def test_url_fragment_and_mailto_are_redacted():
    redactor = Redactor()
    assert redactor.redact_url("https://app.example/#/account/jane@example.com") == (
        "https://app.example/#/account/[email]"
    )
    assert redactor.redact_url("mailto:jane@example.com") == "mailto:[email]"


def test_url_without_personal_data_is_returned_unchanged():
    url = "https://shop.example/products/shoe-42?color=%23ff0000&size=10&utm_source=mail#reviews"
    redactor = Redactor()
    assert redactor.redact_url(url) == url
    assert redactor.manifest == {}


@pytest.mark.parametrize(
    "text",
    [
        "Mail jane@example.com, call +1 (415) 555-0132, card 4111 1111 1111 1111, "
        "IBAN GB82 WEST 1234 5698 7654 32, from 10.0.0.1 and ::1, order 123456789, "
        "password=hunter2, placeholder 4000 0000 0000 0000",
        "[secret] [email] [phone] [card] [card-like] [iban] [ip] [number]",
    ],
)
def test_redacting_redacted_text_changes_nothing_and_counts_nothing(text):
    once = redact(text)
    again = Redactor()
    assert again.redact(once) == once
    assert again.manifest == {}


def test_redacting_a_redacted_url_changes_nothing_and_counts_nothing():
    once = Redactor().redact_url("https://u:p@x.example/u/jane%40x.io?phone=%2B44+20+7946+0958&n=123456789")
    again = Redactor()
    assert again.redact_url(once) == once
    assert again.manifest == {}


@pytest.mark.parametrize(
    "text",
    [
        "1" * 200_000,
        "1 2-3.4:5 " * 20_000,
        "1234 " * 40_000,
        "12-34.56 " * 22_000,
        "1::2:" * 40_000,
        "+1 (2) 3-4 " * 20_000,
        "AB12 CDEF " * 20_000,
        "a" * 2_000_000,
        "a" * 2_000_000 + "@b.c:d::e",
        "ab." * 700_000 + "@example",
    ],
    ids=lambda text: f"{text[:12]!r}x{len(text)}",
)
def test_pathological_inputs_complete(text):
    redactor = Redactor()
    assert isinstance(redactor.redact(text), str)
    assert isinstance(redactor.redact_url(text), str)
