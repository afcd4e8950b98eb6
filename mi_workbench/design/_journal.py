"""An append-only, crash-safe journal of JSON records: the file behind a saved campaign.

Format (one record per line, UTF-8)::

    {"crc32":"1a2b3c4d","record":{...}}

The ``crc32`` is the CRC-32 of the exact bytes of the ``{...}`` text after ``"record":``, so a
line that was cut short by a crash (a "torn" line) or damaged on disk is recognised. The first
line is the header (the campaign's configuration); every later record carries ``seq``, its
position counted from 1, so a missing or repeated line is detected as well.

Guarantees:

- :meth:`Journal.create` writes the header to a temporary file, ``fsync``s it and moves it into
  place with ``os.replace``, so a journal either exists with a complete header or not at all.
- :meth:`Journal.append` writes the whole line with one ``write`` call on a file opened for
  appending and ``fsync``s before returning. If the write fails half-way, the file is cut back to
  its previous length and the error is raised, so the journal never keeps half a record.
- :meth:`Journal.open` accepts a torn or damaged **last** line (what a crash can leave), cuts it
  off and carries on; damage before the last line is not something a crash produces, so it raises
  :class:`JournalError` instead of guessing.
- While a journal is open for writing it holds an exclusive lock (``fcntl.flock``, where the
  platform has it), so two notebooks cannot interleave their records in one file.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import Any

try:  # POSIX only; on other platforms the journal works without the lock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_PREFIX = b'{"crc32":"'
_MIDDLE = b'","record":'
_SUFFIX = b"}\n"


class JournalError(ValueError):
    """A campaign journal that cannot be read safely (damaged, locked or of another format)."""


def encode_record(record: dict[str, Any]) -> bytes:
    """One journal line (bytes, ending in a newline) for ``record``."""
    body = json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    data = body.encode("utf-8")
    crc = zlib.crc32(data) & 0xFFFFFFFF
    return _PREFIX + f"{crc:08x}".encode("ascii") + _MIDDLE + data + _SUFFIX


def decode_line(line: bytes) -> dict[str, Any] | None:
    """The record stored in one complete line (with its newline), or None if it is damaged."""
    if not (line.startswith(_PREFIX) and line.endswith(_SUFFIX)):
        return None
    start = len(_PREFIX)
    crc_text = line[start : start + 8]
    if line[start + 8 : start + 8 + len(_MIDDLE)] != _MIDDLE:
        return None
    data = line[start + 8 + len(_MIDDLE) : -len(_SUFFIX)]
    try:
        crc = int(crc_text, 16)
    except ValueError:
        return None
    if zlib.crc32(data) & 0xFFFFFFFF != crc:
        return None
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def _fsync_directory(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class Journal:
    """An open, locked journal file that records are appended to.

    Use :meth:`create` for a new file and :meth:`open` for an existing one; close it with
    :meth:`close` (campaigns do this for you).
    """

    def __init__(self, path: Path, fd: int, header: dict[str, Any], records: list[dict]):
        self.path = path
        self._fd = fd
        self.header = header
        self.records = records

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, header: dict[str, Any]) -> Journal:
        """Write a new journal holding only ``header``; refuse to overwrite an existing file."""
        path = Path(path)
        if path.exists():
            raise FileExistsError(
                f"path {str(path)!r} already exists; reopen it with Campaign.open(path) or choose "
                f"a new file name"
            )
        if not path.parent.is_dir():
            raise FileNotFoundError(f"the folder {str(path.parent)!r} of path does not exist")
        line = encode_record(header)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            # os.link fails if ``path`` appeared meanwhile: never clobber another campaign
            os.link(tmp, path)
        except FileExistsError:
            os.unlink(tmp)
            raise FileExistsError(f"path {str(path)!r} already exists") from None
        except OSError:  # file systems without hard links
            os.replace(tmp, path)
        else:
            os.unlink(tmp)
        _fsync_directory(path.parent)
        return cls(path, cls._open_locked(path), header, [])

    @classmethod
    def open(cls, path: str | os.PathLike) -> Journal:
        """Read an existing journal, drop a torn last line, and lock it for appending."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no campaign file at {str(path)!r}")
        fd = cls._open_locked(path)
        try:
            header, records, good_length, dropped = cls._read(path, fd)
            if dropped:
                warnings.warn(
                    f"{path.name}: the last line was incomplete (the program was stopped while "
                    f"writing it) and has been removed; every earlier record is intact",
                    RuntimeWarning,
                    stacklevel=3,
                )
                os.ftruncate(fd, good_length)
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, header, records)

    @staticmethod
    def _open_locked(path: Path) -> int:
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise JournalError(
                    f"{str(path)!r} is open in another program or notebook; close the campaign "
                    f"there first (campaign.close()) so that two sessions cannot write at once"
                ) from None
        return fd

    @staticmethod
    def _read(path: Path, fd: int) -> tuple[dict, list[dict], int, bool]:
        size = os.fstat(fd).st_size
        chunks = []
        offset = 0
        while offset < size:
            chunk = os.pread(fd, min(1 << 24, size - offset), offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
        data = b"".join(chunks)
        lines = data.split(b"\n")
        # the text after the last newline (empty when the file ends cleanly) is a torn line
        complete = lines[:-1]
        decoded = [decode_line(line + b"\n") for line in complete]
        if decoded and decoded[-1] is None:
            # a damaged line counts as torn only at the very end of the file
            decoded.pop()
        n_good = len(decoded)
        if any(record is None for record in decoded):
            bad = next(i for i, record in enumerate(decoded) if record is None)
            raise JournalError(
                f"{str(path)!r} is damaged at line {bad + 1} (not the last line, so this is not "
                f"an interrupted write); restore it from a backup"
            )
        if not decoded:
            raise JournalError(f"{str(path)!r} has no readable header; it is not a campaign file")
        good_length = sum(len(line) + 1 for line in complete[:n_good])
        dropped = good_length != len(data)
        header, records = decoded[0], decoded[1:]
        for position, record in enumerate(records, start=1):
            if record.get("seq") != position:
                raise JournalError(
                    f"{str(path)!r}: record {position} has sequence number {record.get('seq')!r}; "
                    f"records are missing or repeated, so the file cannot be trusted"
                )
        return header, records, good_length, dropped

    # -- writing -----------------------------------------------------------------------------
    @property
    def next_seq(self) -> int:
        """The sequence number the next appended record gets."""
        return len(self.records) + 1

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write ``record`` (``seq`` is added) and ``fsync`` before returning it."""
        if self._fd is None:
            raise JournalError(f"the campaign file {str(self.path)!r} has been closed")
        record = {"seq": self.next_seq, **record}
        line = encode_record(record)
        before = os.fstat(self._fd).st_size
        try:
            written = 0
            while written < len(line):
                written += os.write(self._fd, line[written:])
            os.fsync(self._fd)
        except BaseException:
            # never leave half a record behind: cut the file back and report the failure
            try:
                os.ftruncate(self._fd, before)
                os.fsync(self._fd)
            except OSError:  # pragma: no cover - the disk is failing; open() drops the tail
                pass
            raise
        self.records.append(record)
        return record

    def close(self) -> None:
        """Release the lock and the file handle (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._fd is None
