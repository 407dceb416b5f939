"""The `sightline` command."""
