"""Files only this user may read: the data folder 0700, the database, blobs and the key 0600.

Modes are set with `chmod`, whatever the umask; a folder or file that does not exist is skipped.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FOLDER_MODE, FILE_MODE = 0o700, 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_folder(path: Path) -> Path:
    """`path` created if missing, mode 0700."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, FOLDER_MODE)
    return path


def private_file(path: Path) -> None:
    """`path` made 0600 when it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, FILE_MODE)


def private_tree(root: Path) -> None:
    """`root` and every folder under it 0700, every file 0600 (an older data folder tightened)."""
    private_folder(root)
    for folder, folders, files in os.walk(root):
        for name in folders:
            os.chmod(Path(folder) / name, FOLDER_MODE)
        for name in files:
            private_file(Path(folder) / name)


def sqlite_files(url: str) -> list[Path]:
    """The SQLite database file of `url` and its companions (-wal, -shm, -journal); [] for a server."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return []
    database = Path(parsed.database)
    return [database, *(database.with_name(database.name + suffix) for suffix in SQLITE_COMPANIONS)]


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (SQLite then writes its database into it,
    and gives the -wal and -shm files the database's mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    private_file(path)
