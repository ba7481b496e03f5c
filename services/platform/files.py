"""What a service keeps on local disk is its user's alone: directories 0700, files 0600.

The data directory holds the SQLite databases (read models, ledgers, the embedded log), the PII
keys, the local API key and the outgoing messages of unconfigured channels (which hold contacts).
The command line narrows the process umask to 0o077 at start (``services.cli.main``), so whatever
any library creates there is private; these helpers make the modes explicit where CharterWatch
creates such files itself, so a process started otherwise (a test, an embedding program) keeps
them private too, and narrow what an earlier release left open. A mode is only ever narrowed.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` as a directory, created 0700 if missing (its missing parents too); an existing one is
    left as it is (``narrow`` it if it is the service's own)."""
    missing: list[Path] = []
    for p in (path, *path.parents):
        if p.exists():
            break
        missing.append(p)
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    for p in missing:  # mkdir gives the parents it creates the default mode (as mkdir -p does)
        narrow(p, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """``path`` created empty and 0600 if missing; an existing file is narrowed to 0600."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        narrow(path, PRIVATE_FILE)
    return path


def write_private(path: Path, text: str, replace: bool = False) -> Path:
    """Write ``text`` to ``path``, a file 0600 from its creation (its directory made private if missing).
    A key is written once: without ``replace`` an existing file is an error (FileExistsError), never
    overwritten."""
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    with os.fdopen(os.open(path, flags, PRIVATE_FILE), "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def private_sqlite(path: Path) -> Path:
    """A SQLite database file, 0600 before SQLite first opens it: SQLite gives the WAL, shared-memory
    and journal files the mode of the database. Those left by an earlier run are narrowed too."""
    private_dir(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        narrow(path.with_name(path.name + suffix), PRIVATE_FILE)
    return path


def private_tree(path: Path) -> Path:
    """``path`` a private directory, and everything under it narrowed: directories 0700, files 0600."""
    private_dir(path)
    narrow(path, PRIVATE_DIR)
    for root, dirs, files in os.walk(path):
        for name in dirs:
            narrow(Path(root, name), PRIVATE_DIR)
        for name in files:
            narrow(Path(root, name), PRIVATE_FILE)
    return path


def narrow(path: Path, mode: int) -> None:
    """Take from ``path`` every permission ``mode`` does not grant, if it exists and is the process
    user's own (another user's file, a shared parent such as /tmp, is never changed)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    current = stat.S_IMODE(st.st_mode)
    owned = not hasattr(os, "geteuid") or st.st_uid == os.geteuid()
    if owned and current & ~mode:
        os.chmod(path, current & mode)
