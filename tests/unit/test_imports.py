"""The public surface, pinned, and the house rule that the pure packages do no I/O.

A package's ``__all__`` is what other parts may import; changing it is a decision, so this
test changes with it. The pure packages (``ssiwallet/core``, ``registry/ledger``,
``registry/tlog`` and the verifier's rule modules) must not import aiohttp, sqlite3,
psycopg, Textual, the file system, a clock or the project's infra: ``now``, randomness and
lookups are parameters.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

PUBLIC: dict[str, set[str]] = {
    "ssiwallet": {"cli", "cli_text", "core", "demo", "errors", "holder", "infra", "tui",
                  "wallet"},
    "ssiwallet.core": {"b64", "claimpath", "credtype_schemas", "credtypes", "dcql",
                       "dcql_match", "didkey", "jws", "keys", "oid4vci", "oid4vp", "receipt",
                       "sdjwt", "statuslist", "strictjson", "values", "vc"},
    "ssiwallet.infra": {"budget", "cli", "clock", "files", "http", "sqlite", "web"},
    "ssiwallet.wallet": {"backup", "net", "records", "refresh", "sealed", "store", "wallet"},
    "ssiwallet.holder": {"present", "receive"},
    "registry": {"author", "cli", "cli_gov", "client", "errors", "ledger", "node", "tlog",
                 "witness"},
    "registry.ledger": {"block", "bundle", "chain", "commitment", "didketen", "fields",
                        "resolve", "rules", "state", "tx"},
    "registry.tlog": {"checkpoint", "merkle", "note", "statemap", "tree"},
    "registry.node": {"app", "http", "node", "storage", "sync"},
    "registry.witness": {"client", "decide", "http", "store"},
    "registry.node.storage": {"SCHEMA_VERSION", "MemoryStorage", "SqliteStorage", "Storage",
                              "StorageError", "StoredBlock", "StoredTx"},
    "registry.client": {"CheckpointStore", "ClientError", "FileCheckpointStore", "Genesis",
                        "KeyNotValidError", "NotAccreditedError", "RegistryClient",
                        "RegistryUnavailableError", "RemoteError", "Resolution", "TrustPolicy",
                        "UntrustedResponseError"},
    "registry.author": {"Controller", "ControllerFile", "KeyFileError", "endorse",
                        "genesis_block", "load_controller", "save_controller"},
    "issuer": {"cli", "config", "context", "desk", "errors", "http", "issuance", "metadata",
               "offers", "registry_link", "store"},
    "verifier": {"check", "cli", "config", "context", "desk", "errors", "facts", "http",
                 "model", "pipeline", "policy", "presets", "service", "sessions", "words"},
}

PURE_DIRS = ["ssiwallet/core", "registry/ledger", "registry/tlog"]
PURE_FILES = ["verifier/pipeline.py", "verifier/policy.py", "verifier/model.py",
              "verifier/presets.py", "verifier/words.py"]

FORBIDDEN_MODULES = {"aiohttp", "sqlite3", "psycopg", "psycopg_pool", "textual", "time",
                     "pathlib", "io", "shutil", "tempfile", "socket",
                     "ssiwallet.infra", "ssiwallet.wallet", "ssiwallet.holder", "ssiwallet.tui",
                     "registry.node", "registry.client", "registry.witness"}
FORBIDDEN_CALLS = {"open", "now", "today", "utcnow", "time"}
ALLOWED_OS = {"urandom"}  # randomness defaults; callers pass their own in tests


def _pure_files() -> list[Path]:
    files = [p for d in PURE_DIRS for p in sorted((REPO / d).rglob("*.py"))]
    return files + [REPO / f for f in PURE_FILES]


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_public_names_are_pinned(package: str) -> None:
    module = importlib.import_module(package)
    assert set(module.__all__) == PUBLIC[package]
    for name in module.__all__:
        if not hasattr(module, name):
            importlib.import_module(f"{package}.{name}")  # a public submodule


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_MODULES):
                found.append(f"imports {name}")
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            if called in FORBIDDEN_CALLS:
                found.append(f"calls {called}() at line {node.lineno}")
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id == "os" and node.attr not in ALLOWED_OS):
            found.append(f"uses os.{node.attr} at line {node.lineno}")
    return found


@pytest.mark.parametrize("path", _pure_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_pure_modules_do_no_io(path: Path) -> None:
    assert _violations(path) == []


def test_the_rule_catches_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import time\nfrom aiohttp import web\nimport os\n"
                   "x = open('f')\ny = os.getcwd()\nz = datetime.now()\n")
    assert len(_violations(bad)) == 5


def test_importing_the_pure_packages_loads_no_io_library() -> None:
    """Transitively too: a subprocess imports every pure module and lists what got loaded."""
    modules = sorted({
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for p in _pure_files()})
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout.split())
    assert not loaded & {"aiohttp", "sqlite3", "psycopg", "textual", "ssiwallet.infra"}


@pytest.mark.parametrize("layer, below", [
    ("registry/tlog", "registry.ledger"),       # the log knows nothing of the rules above it
    ("ssiwallet/core", "registry"),             # the protocol core knows no registry
    ("ssiwallet/infra", "registry"),            # side effects know no registry either
])
def test_lower_layers_do_not_import_upper_ones(layer: str, below: str) -> None:
    offenders = []
    for path in sorted((REPO / layer).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names
                          if n == below or n.startswith(below + ".")]
    assert offenders == []
