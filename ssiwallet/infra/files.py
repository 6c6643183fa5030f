"""Files written once, the same way everywhere: whole or not at all, secrets for their owner.

Every file a Keten part writes goes through here: the wallet's sealed store and backups, key
files, checkpoints a client pins, witness keys, admin tokens. Two operations cover them:

- :func:`write_atomic` replaces a file so that a crash (``kill -9``, power loss, a full disk)
  leaves either the old file or the new one, whole: the bytes go to a sibling with a unique
  name (created exclusively, so two writers never share one), are fsynced, renamed over the
  target, and the directory is fsynced so the rename itself survives. On any failure the
  sibling is removed and the old file is untouched.
- :func:`create_exclusive` publishes a new file only if none exists yet (a hard link of the
  fsynced sibling), so two processes racing to create a key never end up with two keys.

``secret=True`` creates the file with mode 0600 from the start (never a moment with wider
permissions).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["create_exclusive", "fsync_dir", "write_atomic"]

_PUBLIC_MODE = 0o644
_SECRET_MODE = 0o600


def fsync_dir(directory: Path) -> None:
    """Make a rename or link inside ``directory`` durable."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_sibling(path: Path, data: bytes, mode: int) -> Path:
    """Write ``data`` to a fresh, uniquely named sibling of ``path`` and fsync it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: Path, data: bytes | str, *, secret: bool = False) -> None:
    """Replace ``path`` with ``data``: after a crash the old or the new file is there, whole."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = _write_sibling(path, raw, _SECRET_MODE if secret else _PUBLIC_MODE)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def create_exclusive(path: Path, data: bytes | str, *, secret: bool = False) -> bool:
    """Create ``path`` with ``data`` only if it does not exist; True if this call created it.

    The file appears whole or not at all; if another process created it first, its content is
    kept and False is returned.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = _write_sibling(path, raw, _SECRET_MODE if secret else _PUBLIC_MODE)
    try:
        os.link(tmp, path)
        created = True
    except FileExistsError:
        created = False
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)
    return created
