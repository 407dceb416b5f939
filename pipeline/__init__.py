"""The pure domain: no network, no database session, no Redis, no clock, no environment."""
