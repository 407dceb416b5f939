"""The scheduler daemon (sweeps, due actions, reapers) arrives in issue [3/5]."""
