"""The web pages (server-rendered with Jinja2): sign-in, observations, sessions, reports, operators.

Every page needs a signed-in person (`web.viewer`): without one it redirects to `/signin`; every
form carries the session's CSRF token (`web.check_csrf`); another team's object is a 404 page,
exactly as one that does not exist. Pages call the same use cases as the API and the CLI.
"""
