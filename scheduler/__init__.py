"""The scheduler daemon (DESIGN §6): one leader at a time sweeps scanners, claims due actions and
reaps what got stuck, then only `.send()`s message ids; workers do the rest."""
