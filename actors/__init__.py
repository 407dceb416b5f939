"""Dramatiq actors and the one place the broker is built (`actors.broker`)."""
