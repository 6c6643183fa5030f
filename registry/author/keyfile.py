"""Controller key files: written atomically with mode 0600, re-read by running services."""

from __future__ import annotations

from pathlib import Path

from registry.author.controller import Controller, KeyFileError
from ssiwallet.core import strictjson
from ssiwallet.core.b64 import b64u_decode, b64u_encode
from ssiwallet.core.keys import Ed25519PrivateKey
from ssiwallet.errors import SsiError
from ssiwallet.infra.files import create_exclusive, write_atomic

__all__ = ["ControllerFile", "load_controller", "load_seed", "save_controller", "save_seed"]


def save_controller(controller: Controller, path: Path) -> None:
    """Write a key file atomically, readable by its owner only."""
    write_atomic(path, strictjson.dumps(controller.to_json()), secret=True)


def load_controller(path: Path) -> Controller:
    """Read a key file written by :func:`save_controller`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return Controller.from_json(strictjson.loads_object(data, what="key file"))
    except SsiError as exc:
        raise KeyFileError(f"{path}: {exc.detail}") from None


class ControllerFile:
    """A key file a running service signs with, re-read when it changes on disk.

    The service never writes it: a rotation (``ssi-issuer rotate-key``, ``ssi-registry
    rotate``) rewrites the file once the registry accepted it, and the next signature uses the
    new key. Sequence numbers are read from the registry before each transaction, so the
    file never needs to track them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: int | None = None
        self._controller = self._load()

    def _load(self) -> Controller:
        try:
            self._mtime = self.path.stat().st_mtime_ns
        except OSError as exc:
            raise KeyFileError(f"cannot read {self.path}: {exc.strerror}") from None
        return load_controller(self.path)

    @property
    def controller(self) -> Controller:
        """The DID's current keys (re-read if the file changed since the last read)."""
        try:
            changed = self.path.stat().st_mtime_ns != self._mtime
        except OSError:
            changed = False  # keep the key we have; the registry judges its signatures
        if changed:
            self._controller = self._load()
        return self._controller


def save_seed(key: Ed25519PrivateKey, path: Path) -> None:
    """Write a bare signing key (the sequencer's) as a new file, readable by its owner only.

    Raises:
        FileExistsError: a key file is already there (it is never overwritten).
    """
    if not create_exclusive(path, b64u_encode(key.seed) + "\n", secret=True):
        raise FileExistsError(path)


def load_seed(path: Path) -> Ed25519PrivateKey:
    """Read a key written by :func:`save_seed`."""
    try:
        return Ed25519PrivateKey(b64u_decode(path.read_text().strip()))
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}") from None
    except SsiError as exc:
        raise KeyFileError(f"{path}: {exc.detail}") from None
