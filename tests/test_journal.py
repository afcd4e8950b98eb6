"""The campaign journal: full disks, dropped campaigns, damaged files, read-only opening, repair."""

from __future__ import annotations

import errno
import gc
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from mi_workbench.design import Campaign, CampaignError, JournalError, _journal, repair_journal

_real_write = os.write


def line_space(n: int = 200) -> xr.Dataset:
    x = np.linspace(0.0, 1.0, n)
    return xr.Dataset(
        {"x": ("candidate", x)}, coords={"candidate": [f"c{i:04d}" for i in range(n)]}
    )


def saved_campaign(path: Path, values=(1.0, 2.0, 3.0)) -> bytes:
    """A closed campaign file with one observation per value; returns its bytes."""
    with Campaign(line_space(), ["x"], path=path, random_seed=0) as campaign:
        for k, value in enumerate(values):
            campaign.observe([f"c{k + 1:04d}"], [value])
    return path.read_bytes()


def values(path: Path, **kwargs) -> list[float]:
    with Campaign.open(path, line_space(), **kwargs) as campaign:
        return campaign.history["value"].values.tolist()


# -------------------------------------------------------------------------------------------
# 1. a full disk while creating (or appending to) a journal
# -------------------------------------------------------------------------------------------
def test_create_completes_short_writes(tmp_path, monkeypatch):
    def short_write(fd, data):  # what a nearly full disk or a signal can do
        return _real_write(fd, bytes(data[:7]))

    monkeypatch.setattr(os, "write", short_write)
    path = tmp_path / "short.jsonl"
    Campaign(line_space(), ["x"], path=path, random_seed=3).close()
    monkeypatch.undo()
    with Campaign.open(path, line_space()) as campaign:
        assert campaign.config["random_seed"] == 3


@pytest.mark.parametrize("stored", [0, 40])
def test_create_on_a_full_disk_raises_and_leaves_no_file(tmp_path, monkeypatch, stored):
    calls = []

    def full_disk(fd, data):
        calls.append(len(data))
        if len(calls) == 1 and stored:
            return _real_write(fd, bytes(data[:stored]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    path = tmp_path / "full.jsonl"
    with pytest.raises(OSError, match="could not create the campaign file") as info:
        Campaign(line_space(), ["x"], path=path, random_seed=0)
    assert info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []  # neither the journal nor its temporary file


def test_create_refuses_a_disk_that_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "write", lambda fd, data: 0)
    with pytest.raises(OSError, match="could not create"):
        Campaign(line_space(), ["x"], path=tmp_path / "zero.jsonl", random_seed=0)
    assert list(tmp_path.iterdir()) == []


def test_append_that_cannot_be_undone_closes_the_campaign_and_the_file_reopens(
    tmp_path, monkeypatch
):
    path = tmp_path / "failing.jsonl"
    campaign = Campaign(line_space(), ["x"], path=path, random_seed=0)
    campaign.observe(["c0001"], [1.0])

    def half_then_full(fd, data):
        _real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    def failing_truncate(fd, length):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "write", half_then_full)
    monkeypatch.setattr(os, "ftruncate", failing_truncate)
    with pytest.raises(OSError, match="No space"):
        campaign.observe(["c0002"], [2.0])
    monkeypatch.undo()
    # writing after the half record would bury it in the middle of the file: refuse instead
    assert campaign.closed
    with pytest.raises(ValueError, match="closed"):
        campaign.observe(["c0003"], [3.0])
    with pytest.warns(RuntimeWarning, match="incomplete"):
        assert values(path) == [1.0]
    assert values(path) == [1.0]


def test_append_failure_is_rolled_back_and_the_campaign_carries_on(tmp_path, monkeypatch):
    path = tmp_path / "rollback.jsonl"
    campaign = Campaign(line_space(), ["x"], path=path, random_seed=0)
    campaign.observe(["c0001"], [1.0])
    before = path.read_bytes()

    def half_then_full(fd, data):
        _real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(OSError, match="No space"):
        campaign.observe(["c0002"], [2.0])
    monkeypatch.undo()
    assert path.read_bytes() == before
    campaign.observe(["c0002"], [2.5])
    campaign.close()
    assert values(path) == [1.0, 2.5]


# -------------------------------------------------------------------------------------------
# 4. a campaign dropped without close() and the "locked" message
# -------------------------------------------------------------------------------------------
def test_a_dropped_campaign_releases_its_lock(tmp_path):
    path = tmp_path / "dropped.jsonl"
    campaign = Campaign(line_space(), ["x"], path=path, random_seed=0)
    campaign.observe(["c0001"], [1.0])
    campaign = None  # the variable reassigned, as in a notebook cell run again
    gc.collect()
    assert values(path) == [1.0]


def test_a_campaign_never_assigned_releases_its_lock(tmp_path):
    path = tmp_path / "unassigned.jsonl"
    Campaign(line_space(), ["x"], path=path, random_seed=0)
    Campaign.open(path, line_space()).close()  # no gc.collect() by the user needed


def test_locked_message_names_this_kernel_and_the_way_out(tmp_path):
    path = tmp_path / "held.jsonl"
    holder = Campaign(line_space(), ["x"], path=path, random_seed=0)
    with pytest.raises(JournalError) as info:
        Campaign.open(path, line_space())
    message = str(info.value)
    assert "another Campaign object in this kernel" in message
    assert ".close()" in message and "read_only=True" in message
    if Path("/proc/locks").exists():
        assert f"process {os.getpid()}" in message
    holder.close()


_HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("locked", flush=True)
    sys.stdin.read()
    """
)


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks")
def test_locked_message_names_the_other_process(tmp_path):
    path = tmp_path / "other.jsonl"
    saved_campaign(path, values=(1.0,))
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(JournalError, match=f"process {child.pid} .another notebook kernel"):
            Campaign.open(path, line_space())
        assert values(path, read_only=True) == [1.0]  # reading needs no lock
    finally:
        child.communicate("")
    assert values(path) == [1.0]


# -------------------------------------------------------------------------------------------
# 5. edited, damaged and CRLF files
# -------------------------------------------------------------------------------------------
def test_an_edited_last_line_is_refused_not_cut_off(tmp_path):
    path = tmp_path / "edited.jsonl"
    intact = saved_campaign(path)
    edited = intact.replace(b"3.0", b"4.0")  # a complete line, newline kept: not a torn write
    path.write_bytes(edited)
    with pytest.raises(JournalError, match="damaged at line 4") as info:
        Campaign.open(path, line_space())
    assert "repair_journal" in str(info.value) and "3 line(s) before it are intact" in str(
        info.value
    )
    assert path.read_bytes() == edited  # nothing was removed


def test_a_damaged_middle_line_names_the_line_and_the_repair(tmp_path):
    path = tmp_path / "middle.jsonl"
    intact = saved_campaign(path)
    lines = intact.splitlines(keepends=True)
    lines[2] = lines[2].replace(b"2.0", b"7.0")
    path.write_bytes(b"".join(lines))
    with pytest.raises(JournalError, match="damaged at line 3") as info:
        Campaign.open(path, line_space())
    message = str(info.value)
    assert "mi_workbench.design.repair_journal" in message
    assert "the 1 line(s) after it" in message and "backup" in message


def test_a_missing_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "missing.jsonl"
    lines = saved_campaign(path).splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2] + lines[3:]))
    with pytest.raises(JournalError, match="damaged at line 3: it has sequence number 3 where 2"):
        Campaign.open(path, line_space())


def test_crlf_line_endings_and_blank_lines_are_read(tmp_path):
    path = tmp_path / "windows.jsonl"
    intact = saved_campaign(path)
    path.write_bytes(intact.replace(b"\n", b"\r\n") + b"\r\n")
    assert values(path) == [1.0, 2.0, 3.0]
    with Campaign.open(path, line_space()) as campaign:
        campaign.observe(["c0009"], [9.0])
    assert values(path) == [1.0, 2.0, 3.0, 9.0]


def test_a_whole_last_record_without_its_newline_is_kept(tmp_path):
    path = tmp_path / "noeol.jsonl"
    intact = saved_campaign(path)
    path.write_bytes(intact[:-1])  # an editor that drops the final newline
    with Campaign.open(path, line_space()) as campaign:
        assert campaign.history["value"].values.tolist() == [1.0, 2.0, 3.0]
        campaign.observe(["c0009"], [9.0])
    assert values(path) == [1.0, 2.0, 3.0, 9.0]


def test_a_torn_last_line_is_still_removed(tmp_path):
    path = tmp_path / "torn.jsonl"
    intact = saved_campaign(path)
    last = intact.splitlines(keepends=True)[-1]
    path.write_bytes(intact + last[:-5])
    with pytest.warns(RuntimeWarning, match="incomplete"):
        assert values(path) == [1.0, 2.0, 3.0]
    assert path.read_bytes() == intact


# -------------------------------------------------------------------------------------------
# repair
# -------------------------------------------------------------------------------------------
def test_repair_keeps_the_intact_prefix_and_a_backup(tmp_path):
    path = tmp_path / "repair.jsonl"
    intact = saved_campaign(path, values=(1.0, 2.0, 3.0, 4.0))
    lines = intact.splitlines(keepends=True)
    lines[3] = lines[3].replace(b"3.0", b"8.0")
    damaged = b"".join(lines)
    path.write_bytes(damaged)

    report = repair_journal(path)
    assert report.path == path
    assert report.n_records == 2
    assert report.dropped_lines == (4, 5)
    assert "checksum" in report.reason
    assert report.backup.parent == tmp_path and report.backup.read_bytes() == damaged
    assert "kept 2 record(s)" in str(report) and "lines 4 to 5" in str(report)
    assert path.read_bytes() == b"".join(lines[:3])
    assert values(path) == [1.0, 2.0]

    # a second repair has nothing to do and touches nothing
    again = repair_journal(path)
    assert again.backup is None and again.dropped_lines == ()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, report.backup.name])


def test_repair_of_crlf_and_a_torn_tail(tmp_path):
    path = tmp_path / "crlf.jsonl"
    intact = saved_campaign(path)
    path.write_bytes(intact.replace(b"\n", b"\r\n") + b'{"crc32":"12')
    report = repair_journal(path)
    assert report.dropped_lines == (5,) and "incomplete" in report.reason
    assert path.read_bytes() == intact
    assert report.backup.read_bytes().endswith(b'{"crc32":"12')


def test_repair_refuses_a_damaged_header_and_changes_nothing(tmp_path):
    path = tmp_path / "header.jsonl"
    damaged = b"not a journal\n" + saved_campaign(path)
    path.write_bytes(damaged)
    with pytest.raises(JournalError, match="line 1, its header"):
        repair_journal(path)
    with pytest.raises(JournalError, match="line 1, its header"):
        Campaign.open(path, line_space())
    assert path.read_bytes() == damaged
    assert list(tmp_path.iterdir()) == [path]


def test_repair_refuses_a_journal_open_for_writing(tmp_path):
    path = tmp_path / "busy.jsonl"
    campaign = Campaign(line_space(), ["x"], path=path, random_seed=0)
    with pytest.raises(JournalError, match="open in another program"):
        repair_journal(path)
    campaign.close()


# -------------------------------------------------------------------------------------------
# 10. permissions and read-only opening
# -------------------------------------------------------------------------------------------
def test_journals_are_readable_by_others_subject_to_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        saved_campaign(tmp_path / "a.jsonl", values=())
        os.umask(0o077)
        saved_campaign(tmp_path / "b.jsonl", values=())
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.jsonl").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.jsonl").stat().st_mode) == 0o600


def test_read_only_open_writes_nothing_and_refuses_to_record(tmp_path, monkeypatch):
    path = tmp_path / "view.jsonl"
    intact = saved_campaign(path)
    last = intact.splitlines(keepends=True)[-1]
    path.write_bytes(intact + last[:9])  # another program is writing a record right now
    before = path.read_bytes()

    def forbidden(*args, **kwargs):
        raise AssertionError("a read-only campaign touched its file")

    # any attempt to write, truncate or lock fails the test
    for name in ("write", "ftruncate", "fsync", "replace", "unlink"):
        monkeypatch.setattr(os, name, forbidden)
    monkeypatch.setattr(_journal.fcntl, "flock", forbidden)
    with pytest.warns(RuntimeWarning, match="ignored"):
        campaign = Campaign.open(path, line_space(), read_only=True)
    assert campaign.read_only
    assert campaign.history["value"].values.tolist() == [1.0, 2.0, 3.0]
    assert float(campaign.best["value"]) == 1.0
    for call in (
        lambda: campaign.observe(["c0009"], [9.0]),
        lambda: campaign.suggest(1),
        lambda: campaign.undo(),
    ):
        with pytest.raises(CampaignError, match="opened read-only"):
            call()
    campaign.close()
    monkeypatch.undo()
    assert path.read_bytes() == before


def test_read_only_file_system(tmp_path, monkeypatch):
    path = tmp_path / "ro.jsonl"
    saved_campaign(path)
    real_open = os.open
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def read_only_fs(file, flags, *args, **kwargs):
        if flags & writing:
            raise OSError(errno.EROFS, "Read-only file system", str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_fs)
    with pytest.raises(OSError, match="cannot be opened for writing.*read_only=True"):
        Campaign.open(path, line_space())
    assert values(path, read_only=True) == [1.0, 2.0, 3.0]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_file_and_folder(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    path = folder / "done.jsonl"
    saved_campaign(path)
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match="read_only=True"):
            Campaign.open(path, line_space())
        assert values(path, read_only=True) == [1.0, 2.0, 3.0]
    finally:
        folder.chmod(0o755)
