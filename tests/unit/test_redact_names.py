"""Redaction by name: a value whose name says it is secret becomes `[secret]`, whatever it looks like.

Also the `[card-like]` shape: digits grouped like a card number that fail Luhn (DESIGN §4, Privacy).
"""

from __future__ import annotations

import pytest

from pipeline.redact import Redactor, is_secret_name


def redact(text: str) -> str:
    return Redactor().redact(text)


SECRET_NAMES = {
    "password": ["password", "pass", "passwd", "pwd", "pw", "passcode", "passphrase", "new_password"],
    "token": ["token", "access_token", "id_token", "refresh_token", "auth_token", "csrftoken", "jwt"],
    "secret": ["secret", "client_secret", "clientSecret", "credentials"],
    "key": ["key", "api_key", "apikey", "API_KEY", "apiKey", "privatekey", "secretkey", "x-api-key"],
    "auth": ["auth", "authorization", "x-auth-token", "Bearer"],
    "session": ["session", "sid", "sessionid", "session_id", "$session_id", "PHPSESSID", "JSESSIONID"],
    "card": ["card", "cc", "ccnum", "creditcard", "creditCard", "CardNumber", "card-number", "cvv", "cvv2"],
    "card details": ["cvc", "csc", "exp", "expiry", "cc_exp", "card_expiry"],
    "identity": ["ssn", "iban", "pin", "otp", "totp", "mfa_code"],
    "other credentials": ["cookie", "set-cookie", "signature", "sig", "X-Amz-Signature"],
}


@pytest.mark.parametrize(
    "name", [name for names in SECRET_NAMES.values() for name in names], ids=lambda name: name
)
def test_secret_names_are_recognised(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["PASSWORD", "Password", "pass_word", "Access-Token", "accessToken", "ACCESS_TOKEN", "access.token"],
)
def test_secret_names_ignore_case_separators_and_camel_case(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "keyboard",
        "monkey",
        "hotkey",
        "passenger",
        "compass",
        "bypass",
        "passport",
        "tokenize",
        "tokens",
        "author",
        "username",
        "email",
        "plan",
        "",
        "__",
    ],
)
def test_words_that_merely_contain_a_secret_word_are_not_secret_names(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", ["token_type", "card_brand", "password_strength", "$session_entry_url"])
def test_a_name_ending_in_a_word_that_describes_the_secret_is_not_secret(name):
    assert not is_secret_name(name)


# --- redact_field ---------------------------------------------------------------------------------


def test_a_secret_field_value_becomes_secret_and_is_counted():
    redactor = Redactor()
    assert redactor.redact_field("cardNumber", "4111 1111 1111 1111") == "[secret]"
    assert redactor.redact_field("api_key", "sk_live_51H8") == "[secret]"
    assert redactor.manifest == {"secret": 2}


def test_an_ordinary_field_value_is_redacted_by_shape():
    redactor = Redactor()
    assert redactor.redact_field("contact", "mail jane@example.com") == "mail [email]"
    assert redactor.redact_field("plan", "pro") == "pro"
    assert redactor.manifest == {"email": 1}


@pytest.mark.parametrize("value", ["", "  ", "null", "undefined", "false", "••••••", "****", "[secret]"])
def test_a_secret_field_with_nothing_secret_in_it_is_kept(value):
    redactor = Redactor()
    assert redactor.redact_field("password", value) == value
    assert redactor.manifest == {}


# --- URLs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/demo/2?username=test&password=pass", "/demo/2?username=test&password=[secret]"),
        ("/demo/3?creditcard=999999", "/demo/3?creditcard=[secret]"),
        (
            "https://api.example/v1?apiKey=AIzaSyD-123&q=shoes",
            "https://api.example/v1?apiKey=[secret]&q=shoes",
        ),
        ("/login?user%5Fpassword=hunter2", "/login?user%5Fpassword=[secret]"),
        ("/login?pass%77ord=hunter2", "/login?pass%77ord=[secret]"),
        ("/pay?card+number=4111+1111", "/pay?card+number=[secret]"),
    ],
)
def test_password_in_a_url_query_is_replaced_by_name(url, expected):
    redactor = Redactor()
    assert redactor.redact_url(url) == expected
    assert redactor.manifest == {"secret": 1}


def test_secret_pairs_in_a_url_fragment_are_replaced_and_descriptions_kept():
    url = "https://app.example/callback#access_token=ya29.a0Af&token_type=bearer&expires_in=3599"
    redactor = Redactor()
    assert redactor.redact_url(url) == (
        "https://app.example/callback#access_token=[secret]&token_type=bearer&expires_in=3599"
    )
    assert redactor.manifest == {"secret": 1}


def test_secret_pairs_after_a_hash_route_are_replaced():
    url = "https://app.example/#/auth/callback?state=abc&id_token=eyJhbGci.eyJzdWIi.c2ln"
    assert Redactor().redact_url(url) == "https://app.example/#/auth/callback?state=abc&id_token=[secret]"


def test_a_hash_route_without_pairs_is_redacted_by_shape_as_before():
    url = "https://app.example/#/account/jane@example.com"
    assert Redactor().redact_url(url) == "https://app.example/#/account/[email]"


def test_non_secret_query_values_keep_shape_redaction():
    redactor = Redactor()
    url = "/signup?email=jane%40example.com&password=s3cret&plan=pro"
    assert redactor.redact_url(url) == "/signup?email=[email]&password=[secret]&plan=pro"
    assert redactor.manifest == {"secret": 1, "email": 1}


def test_an_empty_secret_query_value_is_left_alone():
    redactor = Redactor()
    assert redactor.redact_url("/login?password=&token") == "/login?password=&token"
    assert redactor.manifest == {}


def test_a_session_id_in_a_path_parameter_is_replaced_readably():
    assert Redactor().redact_url("/cart;jsessionid=A1B2C3D4?step=2") == "/cart;jsessionid=[secret]?step=2"


@pytest.mark.parametrize(
    "url",
    [
        "/demo/2?username=test&password=pass#access_token=abc&token_type=bearer",
        "/x?password=%5Bsecret%5D",
        "/cart;jsessionid=A1B2C3D4",
        "https://app.example/#/cb?id_token=abc",
    ],
)
def test_redacting_a_url_twice_changes_nothing_the_second_time(url):
    once = Redactor().redact_url(url)
    again = Redactor()
    assert again.redact_url(once) == once
    assert again.manifest == {}


# --- Free text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Password: hunter2", "Password: [secret]"),
        ("password = hunter2", "password = [secret]"),
        ("console error: login failed for token=abc123def", "console error: login failed for token=[secret]"),
        ('{"card": "4111 1111 1111 1111", "plan": "pro"}', '{"card": "[secret]", "plan": "pro"}'),
        ("{'pwd': 'correct horse', 'user': 'jo'}", "{'pwd': '[secret]', 'user': 'jo'}"),
        ('<input name=x apiKey="sk_test_4eC39Hq">', '<input name=x apiKey="[secret]">'),
        ('{"secret":"a\\"b","n":1}', '{"secret":"[secret]","n":1}'),
        ("form user[password]=abc&next=/home", "form user[password]=[secret]&next=/home"),
        ("x-auth-token: a1b2c3;", "x-auth-token: [secret];"),
        ("(pin: 1234)", "(pin: [secret])"),
        ("SSN: 078-05-1120.", "SSN: [secret]."),
        ("IBAN: DE89370400440532013000.", "IBAN: [secret]."),
    ],
)
def test_a_value_after_a_secret_name_becomes_secret(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer xyz", "Authorization: Bearer [secret]"),
        ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic [secret]"),
        ("Authorization: Token 9944b09199c62bcf", "Authorization: Token [secret]"),
        (
            "fetch failed with Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig0 attached",
            "fetch failed with Bearer [secret] attached",
        ),
    ],
)
def test_bearer_credentials_become_secret_and_the_scheme_stays(text, expected):
    redactor = Redactor()
    assert redactor.redact(text) == expected
    assert redactor.manifest == {"secret": 1}


@pytest.mark.parametrize(
    "text",
    [
        "Forgot your password? Reset it",
        "Enter your password",
        "Password:",
        "Password:     ",
        "Password:\nForgot your password?",
        "Card number: •••• •••• •••• 4242",
        "token: undefined",
        "the bearer of this card",
        "Bearer tokens expire after an hour",
        "keyboard: Enter, monkey=3, passenger: Jo, compass=N",
        "token_type: bearer",
        "if (password == null) return",
        "std::key and https://key.example/",
        "Password: [secret], card: [card]",
    ],
)
def test_prose_labels_and_values_with_nothing_secret_stay_readable(text):
    redactor = Redactor()
    assert redactor.redact(text) == text
    assert redactor.manifest == {}


def test_a_name_rule_runs_before_shape_rules_so_a_card_counts_once_as_secret():
    redactor = Redactor()
    assert redactor.redact("card: 4111 1111 1111 1111 was declined") == "card: [secret] was declined"
    assert redactor.redact("iban: GB82 WEST 1234 5698 7654 32 ok") == "iban: [secret] ok"
    assert redactor.manifest == {"secret": 2}


def test_text_with_a_secret_and_other_personal_data_counts_both():
    redactor = Redactor()
    text = "login jane@example.com password=hunter2 from 10.0.0.1"
    assert redactor.redact(text) == "login [email] password=[secret] from [ip]"
    assert redactor.manifest == {"secret": 1, "email": 1, "ip": 1}


def test_a_url_written_in_text_has_its_secret_query_value_replaced():
    assert (
        redact("GET /login?user=jo&password=hunter2&next=/ 302")
        == "GET /login?user=jo&password=[secret]&next=/ 302"
    )


# --- Card-like ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "4000 0000 0000 0000",
        "1234 5678 9012 3456",
        "1234-1234-1234-1234",
        "3782 822463 10006",
        "6011 0000 0000 0000 123",
    ],
)
def test_card_shaped_groups_failing_luhn_are_card_like(text):
    redactor = Redactor()
    assert redactor.redact(f"Card {text} was declined") == "Card [card-like] was declined"
    assert redactor.manifest == {"card_like": 1}


def test_card_shaped_groups_passing_luhn_stay_cards():
    redactor = Redactor()
    assert redactor.redact("4242 4242 4242 4242 and 4000 0000 0000 0000") == "[card] and [card-like]"
    assert redactor.manifest == {"card": 1, "card_like": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Delivered 2024-01-15 at 10:45:00", "Delivered 2024-01-15 at 10:45:00"),
        ("Running v2.14.3 on node 1.20.1", "Running v2.14.3 on node 1.20.1"),
        ("Step 1 2 3 4", "Step 1 2 3 4"),
        ("Years 2022 2023 2024 2025", "Years 2022 2023 2024 2025"),
        ("Countdown 2025 2024 2023 2022", "Countdown 2025 2024 2023 2022"),
        ("Sizes 1024 2048 4096 8192", "Sizes 1024 2048 4096 8192"),
        ("Total $1,299.00 or 1 299,00 €", "Total $1,299.00 or 1 299,00 €"),
        ("London +44 20 7946 0958", "London [phone]"),
        ("Call (555) 123-4567", "Call [phone]"),
        ("Office 020 7946 0958", "Office [phone]"),
    ],
)
def test_ordinary_numbers_and_phones_are_not_card_like(text, expected):
    redactor = Redactor()
    assert redactor.redact(text) == expected
    assert "card_like" not in redactor.manifest


# --- Cost -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "password:" * 20_000,
        "password: " * 20_000,
        "a=" * 50_000,
        "token=a " * 20_000,
        'password: "abc ' * 10_000,
        'pass: "\\" ' * 10_000,
        "Bearer " * 20_000,
        "bearer " + "a1" * 50_000,
        "password=" + "&a" * 50_000,
        ("a" * 70 + "=") * 2_000,
        "card: 4111 " * 10_000,
        "x-" * 50_000 + ":y",
        "4000 0000 0000 0000 " * 5_000,
        "/?" + "password=x&" * 10_000,
    ],
    ids=lambda text: f"{text[:12]!r}x{len(text)}",
)
def test_adversarial_inputs_complete(text):
    redactor = Redactor()
    assert isinstance(redactor.redact(text), str)
    assert isinstance(redactor.redact_url(text), str)
    assert isinstance(redactor.redact_field("password", text), str)
