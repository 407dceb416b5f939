"""The HTTP API arrives in a later issue."""
