"""The use cases: one function per thing a user or a process does (DESIGN §2).

Each takes ids and plain values, the adapters it needs and `now`; loads by id, calls the pure
pipeline, writes once in one transaction, and returns plain results or raises our errors. The
entry points (`cli/`, `api/`, `actors/`, `scheduler/`) call these and nothing deeper.
"""
