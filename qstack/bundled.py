"""The scenario files that come with qstack: ``examples/`` and ``stages/``.

In a clone they are the repository's own folders. A wheel carries copies of them under
``qstack/data/examples`` and ``qstack/data/stages`` (``setup.py`` adds them when it builds the
package), so ``qstack examples DEST`` can copy them out after ``pip install`` and the README's
``qstack run examples/…`` and ``qstack run stages/…`` commands work outside a clone too.

>>> sorted({rel.split("/")[0] for rel in bundled_files()})
['examples', 'stages']
>>> "examples/chain_3_nodes.toml" in bundled_files()
True
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FOLDERS", "SUFFIXES", "BundleError", "bundled_files", "bundled_root", "copy_examples"]

#: the folders shipped, relative to the repository root (and to ``qstack/data`` in a wheel)
FOLDERS: tuple[str, ...] = ("examples", "stages")
#: the kinds of file shipped from them (scenarios, their READMEs, the tutorials' scripts);
#: ``setup.py`` ships the same
SUFFIXES: frozenset[str] = frozenset({".toml", ".md", ".py"})


class BundleError(Exception):
    """The scenario files cannot be found, or copying them would overwrite other files."""


def _has_folders(root: Path) -> bool:
    return all((root / name).is_dir() for name in FOLDERS)


def bundled_root() -> Path:
    """The folder holding ``examples/`` and ``stages/``: ``qstack/data`` of an installed wheel,
    else the clone ``qstack`` is imported from."""
    package = Path(__file__).resolve().parent
    if _has_folders(package / "data"):
        return package / "data"
    clone = package.parent
    if (clone / "pyproject.toml").is_file() and _has_folders(clone):
        return clone
    raise BundleError(f"the example scenarios are not installed with qstack ({package / 'data'} has no "
                      f"{' or '.join(FOLDERS)}): reinstall from a wheel, or use a clone")


def bundled_files(root: Path | None = None) -> dict[str, Path]:
    """Every shipped file, as ``{"examples/chain_3_nodes.toml": path, …}`` in sorted order."""
    root = bundled_root() if root is None else root
    found: dict[str, Path] = {}
    for name in FOLDERS:
        for path in sorted((root / name).rglob("*")):
            if path.is_file() and path.suffix in SUFFIXES and "__pycache__" not in path.parts:
                found[path.relative_to(root).as_posix()] = path
    return dict(sorted(found.items()))


def copy_examples(dest: str | os.PathLike[str], *, force: bool = False) -> tuple[list[str], list[str]]:
    """Copy ``examples/`` and ``stages/`` into ``dest`` (created if missing).

    Returns the files copied and those already there with the same content, as paths relative
    to ``dest``. A file already there with other content is overwritten only with ``force``;
    otherwise :class:`BundleError` names them all and nothing is copied.
    """
    files = bundled_files()
    target = Path(dest)
    if target.exists() and not target.is_dir():
        raise BundleError(f"{target}: not a directory")
    copied: list[str] = []
    same: list[str] = []
    clash: list[str] = []
    for rel, source in files.items():
        out = target / rel
        if out.is_dir():
            raise BundleError(f"{out}: a directory is in the way of the file {rel}; nothing copied")
        if out.exists():
            (same if out.read_bytes() == source.read_bytes() else clash).append(rel)
    if clash and not force:
        shown = ", ".join(clash[:5]) + (f" and {len(clash) - 5} more" if len(clash) > 5 else "")
        raise BundleError(f"{target}: {len(clash)} file{'s' if len(clash) != 1 else ''} already there with other "
                          f"content ({shown}); nothing copied (--force overwrites them)")
    for rel, source in files.items():
        if rel in same:
            continue
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(source.read_bytes())
        copied.append(rel)
    return copied, same
