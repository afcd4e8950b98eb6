"""An append-only, crash-safe journal of JSON records: the file behind a saved campaign.

Format (one record per line, UTF-8)::

    {"crc32":"1a2b3c4d","record":{...}}

The ``crc32`` is the CRC-32 of the exact bytes of the ``{...}`` text after ``"record":``, so a
line that was cut short by a crash (a "torn" line) or damaged on disk is recognised. The first
line is the header (the campaign's configuration); every later record carries ``seq``, its
position counted from 1, so a missing or repeated line is detected as well. Lines may end in
``\\r\\n`` (a file saved by a Windows editor) and blank lines are skipped.

Guarantees:

- :meth:`Journal.create` writes the header to a temporary file (looping until every byte is
  written), ``fsync``s it and moves it into place, so a journal either exists with a complete
  header or not at all. If the disk is full, the temporary file is removed and ``OSError`` is
  raised. Journals are created with mode ``0o644`` (less what the umask removes).
- :meth:`Journal.append` writes the whole line on a file opened for appending and ``fsync``s
  before returning. If the write fails half-way, the file is cut back to its previous length and
  the error is raised, so the journal never keeps half a record; if even that fails, the journal
  is closed and the incomplete line it leaves at the end is removed by the next :meth:`open`.
- :meth:`Journal.open` removes an incomplete last line (one without its newline: the only thing
  an interrupted append leaves). A complete line that does not decode was changed from outside
  (by hand or on disk), wherever it is: :meth:`open` raises :class:`JournalError` naming the line,
  and :func:`repair_journal` keeps the intact records before it in a repaired file (the damaged
  file is kept as a backup beside it).
- While a journal is open for writing it holds an exclusive lock (``fcntl.flock``, where the
  platform has it), so two notebooks cannot interleave their records in one file. The lock is
  released by :meth:`Journal.close`, or when the journal is garbage-collected. ``read_only=True``
  opens a journal without the lock and without writing anything (on a read-only file or file
  system too).
"""

from __future__ import annotations

import datetime as _dt
import errno
import gc
import json
import os
import secrets
import warnings
import weakref
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mi_workbench._checks import check_path

try:  # POSIX only; on other platforms the journal works without the lock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_PREFIX = b'{"crc32":"'
_MIDDLE = b'","record":'
_SUFFIX = b"}\n"
#: Permissions of a new journal (the umask applies): others may read it, e.g. a read-only reviewer.
_MODE = 0o644
_REPAIR_HINT = "mi_workbench.design.repair_journal"


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
    if line.endswith(b"\r\n"):
        line = line[:-2] + b"\n"
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


# ---------------------------------------------------------------------------------------------
# low-level file helpers
# ---------------------------------------------------------------------------------------------
def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data``: ``os.write`` may store fewer bytes than asked (disk full)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, "the disk accepted no more bytes")
        view = view[written:]


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks = []
    offset = 0
    while offset < size:
        chunk = os.pread(fd, min(1 << 24, size - offset), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


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


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:  # pragma: no cover - already gone
        pass


def _write_temporary(path: Path, data: bytes) -> Path:
    """A new, fsync-ed file beside ``path`` holding ``data``; nothing is left behind on error."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, _MODE)
        except FileExistsError:  # pragma: no cover - a name taken by chance
            continue
        break
    else:  # pragma: no cover
        raise FileExistsError(f"could not find a free temporary name beside {str(path)!r}")
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _remove_quietly(tmp)
        raise
    return tmp


def _publish_new(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path``, refusing to overwrite a file that appeared meanwhile."""
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise FileExistsError(f"path {str(path)!r} already exists") from None
        except OSError:  # file systems without hard links
            os.replace(tmp, path)
        else:
            os.unlink(tmp)
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_directory(path.parent)


def _write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` holding exactly ``data``, or raise and leave nothing behind."""
    _publish_new(_write_temporary(path, data), path)


def _lock_holder(fd: int) -> int | None:
    """The id of the process holding the ``flock`` on ``fd``'s file, where Linux tells it."""
    try:
        status = os.fstat(fd)
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            lines = locks.read().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK":  # "->" marks a waiter, not the holder
            continue
        try:
            pid = int(fields[4])
            major, minor, inode = fields[5].split(":")
            same = (int(major, 16), int(minor, 16), int(inode)) == (
                os.major(status.st_dev),
                os.minor(status.st_dev),
                status.st_ino,
            )
        except ValueError:
            continue
        if same and pid > 0:
            return pid
    return None


def _locked_message(path: Path, holder: int | None) -> str:
    read_only = (
        "to read it without recording anything, open it with Campaign.open(path, candidates, "
        "read_only=True)"
    )
    if holder == os.getpid():
        who = (
            f"another Campaign object in this kernel (process {holder}) holds it, for example "
            f"one whose variable was reassigned or that is still shown in an output cell. Call "
            f".close() on that object (or use `with Campaign.open(...) as campaign:`), or "
            f"restart this kernel"
        )
    elif holder is not None:
        who = (
            f"process {holder} (another notebook kernel or program) holds it. Close the campaign "
            f"there (campaign.close()), or restart or stop that kernel"
        )
    else:
        who = (
            "another open Campaign object, in this kernel or in another kernel or program, holds "
            "it. Close that campaign (campaign.close()), or restart the kernel that holds it"
        )
    return (
        f"{str(path)!r} is open in another program or notebook, or in another object in this "
        f"one, so that two sessions cannot write at once: {who}; {read_only}"
    )


# ---------------------------------------------------------------------------------------------
# reading: one scan, used by Journal.open and repair_journal
# ---------------------------------------------------------------------------------------------
@dataclass
class _Scan:
    records: list[dict[str, Any]]  # the intact records before any damage, header first
    kept_end: int  # bytes of the file that hold them (whole lines)
    n_lines: int  # lines in the file, an incomplete last one included
    damaged_line: int | None = None  # the first complete line that cannot be trusted
    reason: str = ""
    torn: bool = False  # the file ends in an incomplete line (an interrupted append)
    missing_newline: bool = False  # the last record is whole but lacks its newline
    canonical: bool = True  # only LF line ends and no blank lines


def _problem(record: dict[str, Any] | None, position: int) -> str:
    """Why ``record`` cannot be the ``position``-th record (0: the header), or ''."""
    if record is None:
        return (
            "it does not match its checksum or is not a journal record, so it was changed by "
            "hand or damaged on disk"
        )
    if position > 0 and record.get("seq") != position:
        return (
            f"it has sequence number {record.get('seq')!r} where {position} was expected, so "
            f"records are missing, repeated or out of order"
        )
    return ""


def _scan(data: bytes) -> _Scan:
    pieces = data.split(b"\n")
    tail = pieces.pop()  # the text after the last newline: empty when the file ends cleanly
    scan = _Scan(records=[], kept_end=0, n_lines=len(pieces) + bool(tail))
    offset = 0
    for number, piece in enumerate(pieces, start=1):
        text = piece.removesuffix(b"\r")
        end = offset + len(piece) + 1
        offset = end
        if text != piece or not text.strip():
            scan.canonical = False
        if not text.strip():  # a blank line (an editor may add one) carries nothing
            scan.kept_end = end
            continue
        reason = _problem(decode_line(text + b"\n"), len(scan.records))
        if reason:
            scan.damaged_line, scan.reason = number, reason
            return scan
        scan.records.append(decode_line(text + b"\n"))
        scan.kept_end = end
    if tail:
        record = decode_line(tail.removesuffix(b"\r") + b"\n")
        if not _problem(record, len(scan.records)):
            # the record is whole, only its newline is missing (an editor may drop it): keep it
            scan.records.append(record)
            scan.kept_end = len(data)
            scan.missing_newline = True
        else:
            scan.torn = True
    return scan


def _damage_message(path: Path, scan: _Scan) -> str:
    line = scan.damaged_line
    later = scan.n_lines - line
    if line == 1 or not scan.records:
        return (
            f"{str(path)!r} is damaged at line 1, its header ({scan.reason}); it is not a "
            f"readable campaign file and nothing in it can be recovered automatically: restore "
            f"it from a backup"
        )
    return (
        f"{str(path)!r} is damaged at line {line}: {scan.reason}. An interrupted write only ever "
        f"leaves an incomplete last line, so this is not one, and nothing was changed. The "
        f"{line - 1} line(s) before it are intact: "
        f"{_REPAIR_HINT}({str(path)!r}) keeps them in a repaired file (dropping line {line}"
        + (f" and the {later} line(s) after it" if later else "")
        + ") and keeps the damaged file as a backup beside it; or restore the file from a backup"
    )


# ---------------------------------------------------------------------------------------------
# the journal
# ---------------------------------------------------------------------------------------------
class Journal:
    """An open journal file that records are appended to (locked unless opened read-only).

    Use :meth:`create` for a new file and :meth:`open` for an existing one; close it with
    :meth:`close` (campaigns do this for you). A journal that is garbage-collected without
    :meth:`close` releases its file and lock then.
    """

    def __init__(
        self,
        path: Path,
        fd: int,
        header: dict[str, Any],
        records: list[dict],
        *,
        read_only: bool = False,
    ):
        self.path = path
        self._fd: int | None = fd
        self.header = header
        self.records = records
        self.read_only = read_only
        # closes the file (and so releases the lock) when the journal is collected unclosed
        self._finalizer = weakref.finalize(self, os.close, fd)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, header: dict[str, Any]) -> Journal:
        """Write a new journal holding only ``header``; refuse to overwrite an existing file.

        Raises ``OSError`` (with the reason, for example a full disk) if the header cannot be
        written completely; no file, not even a temporary one, is left behind then.
        """
        path = Path(path)
        if path.exists():
            raise FileExistsError(
                f"path {str(path)!r} already exists; reopen it with Campaign.open(path) or choose "
                f"a new file name"
            )
        if not path.parent.is_dir():
            raise FileNotFoundError(f"the folder {str(path.parent)!r} of path does not exist")
        try:
            _write_new_file(path, encode_record(header))
        except FileExistsError:
            raise
        except OSError as error:
            raise OSError(
                error.errno,
                f"could not create the campaign file {str(path)!r} ({error.strerror or error}); "
                f"nothing was saved and no file was left behind: free some disk space or choose "
                f"another folder, then create the campaign again",
            ) from error
        return cls(path, cls._open_locked(path), header, [])

    @classmethod
    def open(cls, path: str | os.PathLike, *, read_only: bool = False) -> Journal:
        """Read an existing journal, remove an incomplete last line, and lock it for appending.

        With ``read_only=True`` the file is only read: no lock is taken, nothing is written (an
        incomplete last line is ignored, not removed) and :meth:`append` raises.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no campaign file at {str(path)!r}")
        fd = os.open(path, os.O_RDONLY) if read_only else cls._open_locked(path)
        try:
            scan = _scan(_read_all(fd))
            if scan.damaged_line is not None:
                raise JournalError(_damage_message(path, scan))
            if not scan.records:
                raise JournalError(
                    f"{str(path)!r} has no readable header; it is not a campaign file"
                )
            if scan.torn and read_only:
                warnings.warn(
                    f"{path.name}: the last line is incomplete (it is being written, or the "
                    f"program writing it was stopped) and is ignored; the file was opened "
                    f"read-only, so it is left as it is",
                    RuntimeWarning,
                    stacklevel=3,
                )
            elif scan.torn:
                warnings.warn(
                    f"{path.name}: the last line was incomplete (the program was stopped while "
                    f"writing it) and has been removed; every earlier record is intact",
                    RuntimeWarning,
                    stacklevel=3,
                )
                os.ftruncate(fd, scan.kept_end)
                os.fsync(fd)
            elif scan.missing_newline and not read_only:
                _write_all(fd, b"\n")  # complete the last line before anything is appended
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, scan.records[0], scan.records[1:], read_only=read_only)

    @staticmethod
    def _open_locked(path: Path) -> int:
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
        except OSError as error:
            if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            raise type(error)(
                error.errno,
                f"{str(path)!r} cannot be opened for writing ({error.strerror}); to read the "
                f"campaign, open it with Campaign.open(path, candidates, read_only=True)",
            ) from None
        if fcntl is not None:
            for attempt in range(2):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    holder = _lock_holder(fd)
                    if attempt == 0 and holder in (None, os.getpid()):
                        # an unclosed journal of this process that is only waiting to be
                        # garbage-collected (a campaign in a reference cycle) releases it now
                        gc.collect()
                        continue
                    os.close(fd)
                    raise JournalError(_locked_message(path, holder)) from None
        return fd

    # -- writing -----------------------------------------------------------------------------
    @property
    def next_seq(self) -> int:
        """The sequence number the next appended record gets."""
        return len(self.records) + 1

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write ``record`` (``seq`` is added) and ``fsync`` before returning it."""
        if self.read_only:
            raise JournalError(
                f"{str(self.path)!r} was opened read-only; nothing can be recorded in it"
            )
        if self._fd is None:
            raise JournalError(f"the campaign file {str(self.path)!r} has been closed")
        record = {"seq": self.next_seq, **record}
        line = encode_record(record)
        before = os.fstat(self._fd).st_size
        try:
            _write_all(self._fd, line)
            os.fsync(self._fd)
        except BaseException:
            # never leave half a record behind: cut the file back and report the failure
            try:
                os.ftruncate(self._fd, before)
                os.fsync(self._fd)
            except OSError:
                # the disk is failing: stop writing, so that the incomplete line stays last,
                # where the next open() recognises and removes it
                self.close()
            raise
        self.records.append(record)
        return record

    def close(self) -> None:
        """Release the lock and the file handle (idempotent)."""
        if self._fd is not None:
            self._finalizer()  # closing the file releases the flock
            self._fd = None

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._fd is None


# ---------------------------------------------------------------------------------------------
# repair
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JournalRepair:
    """What :func:`repair_journal` did to a journal.

    Attributes
    ----------
    path : pathlib.Path
        The repaired journal (open it as before).
    backup : pathlib.Path or None
        The untouched copy of the file as it was, or None when nothing needed repairing.
    n_records : int
        Records kept after the header.
    dropped_lines : tuple of int
        Line numbers (counted from 1 in the old file) that were dropped.
    reason : str
        Why the first dropped line was dropped ('' if none was).
    """

    path: Path
    backup: Path | None
    n_records: int
    dropped_lines: tuple[int, ...]
    reason: str

    def __str__(self) -> str:
        if self.backup is None:
            return f"{self.path.name}: nothing to repair ({self.n_records} records, all intact)"
        if not self.dropped_lines:
            dropped = "no record was dropped (only line endings were rewritten)"
        else:
            first, last = self.dropped_lines[0], self.dropped_lines[-1]
            span = f"line {first}" if first == last else f"lines {first} to {last}"
            dropped = (
                f"dropped {len(self.dropped_lines)} line(s), {span} (line {first}: {self.reason})"
            )
        return (
            f"{self.path.name}: kept {self.n_records} record(s); {dropped}. The file as it was is "
            f"kept in {self.backup.name}"
        )


def repair_journal(path: str | os.PathLike) -> JournalRepair:
    """Keep the intact start of a damaged campaign journal, and the damaged file as a backup.

    Every record before the first damaged line (one that does not match its checksum, or whose
    sequence number is wrong) is kept in a new file that replaces ``path``; the file as it was is
    first copied, byte for byte, to ``<name>.damaged-<UTC time>`` beside it and is never deleted.
    An incomplete last line (an interrupted write) is dropped as well; ``\\r\\n`` line endings and
    blank lines are rewritten as plain lines. A journal with nothing to repair is left as it is.

    Parameters
    ----------
    path : str or os.PathLike
        The journal (for example a campaign's ``path``). It must not be open for writing (close
        the campaign first).

    Returns
    -------
    JournalRepair
        The repaired path, the backup, the number of records kept and the line numbers dropped;
        ``print`` it for a summary.

    Raises
    ------
    JournalError
        If the header (line 1) is damaged: then nothing can be recovered automatically, and the
        file is left as it is. Also if the journal is open for writing elsewhere.

    Examples
    --------
    >>> report = repair_journal("hysteresis.jsonl")  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    hysteresis.jsonl: kept 41 record(s); dropped 3 line(s), lines 43 to 45: ...
    >>> campaign = Campaign.open("hysteresis.jsonl", space)  # doctest: +SKIP
    """
    path = check_path("path", path)
    if not path.is_file():
        raise FileNotFoundError(f"no campaign file at {str(path)!r}")
    fd = Journal._open_locked(path)  # nobody may append while the file is rewritten
    try:
        data = _read_all(fd)
        scan = _scan(data)
        if not scan.records:
            reason = scan.reason or "it is empty or incomplete"
            raise JournalError(
                f"{str(path)!r} is damaged at line 1, its header ({reason}); nothing in it can "
                f"be recovered automatically: restore it from a backup. The file was left as it is"
            )
        first_dropped = scan.damaged_line or (scan.n_lines if scan.torn else None)
        dropped = () if first_dropped is None else tuple(range(first_dropped, scan.n_lines + 1))
        if not dropped and scan.canonical and not scan.missing_newline:
            return JournalRepair(path, None, len(scan.records) - 1, (), "")
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        for k in range(1000):
            backup = path.with_name(f"{path.name}.damaged-{stamp}" + (f"-{k}" if k else ""))
            if not backup.exists():
                break
        _write_new_file(backup, data)
        kept = b"".join(encode_record(record) for record in scan.records)
        os.replace(_write_temporary(path, kept), path)
        _fsync_directory(path.parent)
    finally:
        os.close(fd)
    reason = scan.reason or ("it was incomplete (an interrupted write)" if dropped else "")
    return JournalRepair(path, backup, len(scan.records) - 1, dropped, reason)
