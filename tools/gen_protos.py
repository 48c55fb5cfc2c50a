"""Regenerate qstack's protobuf Python code from ``protos/`` (and check it is up to date).

The one command that produces ``qstack/proto/qstack/v1/*_pb2.py`` and their ``.pyi`` stubs::

    python tools/gen_protos.py          # regenerate in place
    python tools/gen_protos.py --check  # exit 1, listing stale files, if the committed code differs

It runs ``protoc`` from the PyPI package ``grpcio-tools`` (``python -m grpc_tools.protoc``) as
``-I protos --python_out=qstack/proto --pyi_out=qstack/proto`` on every ``protos/**/*.proto``,
into a temporary directory, then post-processes the output and compares or copies it.

Import fix-up (the documented choice): the proto files live in package ``qstack.v1`` under the
import root ``protos/``, so protoc writes ``from qstack.v1 import link_pb2``, which would resolve
against the top-level ``qstack`` Python package and fail. We keep the proto paths as they are (the
descriptors are registered as ``qstack/v1/link.proto``, as any other language would see them) and
rewrite those imports to package-relative ones (``from . import link_pb2``) in both the ``.py`` and
``.pyi`` files, so the code imports as ``qstack.proto.qstack.v1.link_pb2``. The module name protoc
gives the message classes (``'qstack.v1.link_pb2'``, their ``__module__``) is rewritten to the real
one too, or pickling a message (e.g. a result shipped between Dask workers) fails. Small
``__init__.py`` files are written for ``qstack/proto/qstack`` and ``qstack/proto/qstack/v1``.

Version pin: the generated code calls protobuf's runtime version check, which refuses a runtime
older than the protoc that generated it. The committed code is produced by :data:`PINNED_GRPCIO_TOOLS`;
``--check`` compares byte for byte, so run it with that version installed.

The layout follows the protobuf Python tutorial (https://protobuf.dev/getting-started/pythontutorial/)
and grpcio-tools' documented ``python -m grpc_tools.protoc`` entry point.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Repository root (this file lives in ``tools/``).
ROOT = Path(__file__).resolve().parent.parent
#: Import root of the ``.proto`` files (``-I protos``).
PROTO_ROOT = ROOT / "protos"
#: Output root (``--python_out`` / ``--pyi_out``); generated modules land under ``qstack/`` in it.
OUT_ROOT = ROOT / "qstack" / "proto"
#: The generated tree, relative to :data:`OUT_ROOT`: owned entirely by this script.
GENERATED_DIR = "qstack"
#: grpcio-tools version the committed code was generated with (protoc 35.1, protobuf gencode 7.35.1).
PINNED_GRPCIO_TOOLS = "1.85.1"

_ABSOLUTE_IMPORT = re.compile(r"^from qstack\.v1 import (\w+_pb2)", re.MULTILINE)
_MODULE_NAME = re.compile(r"(BuildTopDescriptorsAndMessages\(DESCRIPTOR, )'qstack\.v1\.(\w+_pb2)'")
_INIT_TEXT = '"""Generated protobuf code; see tools/gen_protos.py. Do not edit."""\n'


def proto_files(proto_root: Path = PROTO_ROOT) -> list[str]:
    """The ``.proto`` files under ``proto_root``, as sorted paths relative to it.

    >>> proto_files()  # doctest: +NORMALIZE_WHITESPACE
    ['qstack/v1/app.proto', 'qstack/v1/envelope.proto', 'qstack/v1/link.proto',
     'qstack/v1/network.proto', 'qstack/v1/realtime.proto']
    """
    return sorted(p.relative_to(proto_root).as_posix() for p in proto_root.rglob("*.proto"))


def fix_module_paths(source: str) -> str:
    """Make protoc's output live in ``qstack.proto.qstack.v1`` instead of ``qstack.v1``.

    Rewrites ``from qstack.v1 import x_pb2`` to ``from . import x_pb2`` and the module name given
    to the message classes to ``qstack.proto.qstack.v1.x_pb2``.

    >>> fix_module_paths("from qstack.v1 import link_pb2 as qstack_dot_v1_dot_link__pb2")
    'from . import link_pb2 as qstack_dot_v1_dot_link__pb2'
    >>> fix_module_paths("_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'qstack.v1.link_pb2', _globals)")
    "_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'qstack.proto.qstack.v1.link_pb2', _globals)"
    >>> fix_module_paths("from google.protobuf import descriptor as _descriptor")
    'from google.protobuf import descriptor as _descriptor'
    """
    source = _ABSOLUTE_IMPORT.sub(r"from . import \1", source)
    return _MODULE_NAME.sub(r"\1'qstack.proto.qstack.v1.\2'", source)


def generate(out_root: Path, proto_root: Path = PROTO_ROOT) -> list[str]:
    """Run protoc on every proto under ``proto_root`` into ``out_root``; return the files written.

    The returned paths are relative to ``out_root``, sorted; module paths are fixed
    (:func:`fix_module_paths`) and ``__init__.py`` files are added.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = generate(Path(tmp))
    >>> [f for f in files if f.endswith("link_pb2.py")]
    ['qstack/v1/link_pb2.py']
    """
    protos = proto_files(proto_root)
    if not protos:
        raise FileNotFoundError(f"no .proto files under {proto_root}")
    command = [
        sys.executable, "-m", "grpc_tools.protoc",
        f"-I{proto_root}", f"--python_out={out_root}", f"--pyi_out={out_root}", *protos,
    ]
    result = subprocess.run(command, cwd=proto_root, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"protoc failed ({result.returncode}):\n{result.stderr}")
    written = []
    for path in sorted(out_root.rglob("*_pb2.py*")):
        path.write_text(fix_module_paths(path.read_text()))
    for package in {p.parent for p in out_root.rglob("*_pb2.py")}:
        while package != out_root:
            (package / "__init__.py").write_text(_INIT_TEXT)
            package = package.parent
    for path in sorted(out_root.rglob("*")):
        if path.is_file():
            written.append(path.relative_to(out_root).as_posix())
    return written


def _tree(root: Path) -> set[str]:
    """Relative paths of the files under ``root``, ignoring ``__pycache__``."""
    if not root.exists():
        return set()
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def stale_files(out_root: Path = OUT_ROOT, proto_root: Path = PROTO_ROOT) -> list[str]:
    """Generated files under ``out_root`` that differ from a fresh generation (missing, changed, extra).

    Each entry is ``"<path> (missing|differs|extra)"`` with paths relative to ``out_root``.

    >>> stale_files()
    []
    """
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp)
        generate(fresh_root, proto_root)
        fresh = _tree(fresh_root / GENERATED_DIR)
        committed = _tree(out_root / GENERATED_DIR)
        stale = []
        for rel in sorted(fresh | committed):
            if rel not in committed:
                stale.append(f"{GENERATED_DIR}/{rel} (missing)")
            elif rel not in fresh:
                stale.append(f"{GENERATED_DIR}/{rel} (extra)")
            elif not filecmp.cmp(fresh_root / GENERATED_DIR / rel, out_root / GENERATED_DIR / rel, shallow=False):
                stale.append(f"{GENERATED_DIR}/{rel} (differs)")
    return stale


def write(out_root: Path = OUT_ROOT, proto_root: Path = PROTO_ROOT) -> list[str]:
    """Regenerate into ``out_root``, replacing its generated tree; return the files written.

    Only ``<out_root>/qstack/`` is replaced; hand-written files beside it (``__init__.py``) stay.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     "qstack/v1/envelope_pb2.pyi" in write(Path(tmp))
    True
    """
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp)
        written = generate(fresh_root, proto_root)
        target = out_root / GENERATED_DIR
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(fresh_root / GENERATED_DIR, target)
    return written


def grpcio_tools_version() -> str | None:
    """The installed grpcio-tools version, or ``None`` when it is not installed.

    >>> isinstance(grpcio_tools_version(), (str, type(None)))
    True
    """
    try:
        return importlib.metadata.version("grpcio-tools")
    except importlib.metadata.PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 ok, 1 stale, 2 grpcio-tools missing).

    >>> main(["--check"])
    generated protobuf code is up to date
    0
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="regenerate into a temporary directory and "
                        "exit 1, listing stale files, if the committed code differs")
    args = parser.parse_args(argv)
    version = grpcio_tools_version()
    if version is None:
        print(f"grpcio-tools is not installed: pip install grpcio-tools=={PINNED_GRPCIO_TOOLS}", file=sys.stderr)
        return 2
    if args.check:
        stale = stale_files()
        if stale:
            print("stale generated protobuf code (run: python tools/gen_protos.py):", file=sys.stderr)
            for entry in stale:
                print(f"  qstack/proto/{entry}", file=sys.stderr)
            if version != PINNED_GRPCIO_TOOLS:
                print(f"note: grpcio-tools {version} is installed; the committed code is generated with "
                      f"{PINNED_GRPCIO_TOOLS}, and other protoc versions write different files", file=sys.stderr)
            return 1
        print("generated protobuf code is up to date")
        return 0
    if version != PINNED_GRPCIO_TOOLS:
        print(f"warning: generating with grpcio-tools {version}, not the pinned {PINNED_GRPCIO_TOOLS}", file=sys.stderr)
    for rel in write():
        print(f"wrote qstack/proto/{rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
