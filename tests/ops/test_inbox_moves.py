"""Files leaving an inbox on another file system (a mounted share) arrive whole, or stay in the inbox."""

from __future__ import annotations

import errno
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from dealersync.inbox import move, move_rejected, processed_place

DAY = date(2026, 11, 26)
CONTENT = bytes(range(256)) * 400


class Killed(BaseException):
    """The run's process dying half-way through a copy."""


def other_file_system(source, target):
    raise OSError(errno.EXDEV, "Invalid cross-device link")


def cut_off(source, target, *args, **kwargs):
    Path(target).write_bytes(Path(source).read_bytes()[:1000])
    raise Killed


@pytest.fixture
def sent(tmp_path) -> Path:
    (tmp_path / "inbox").mkdir()
    path = tmp_path / "inbox" / "D0001_客服台账.xlsx"
    path.write_bytes(CONTENT)
    return path


def test_a_move_to_another_file_system_arrives_whole_and_leaves_the_inbox(sent, monkeypatch):
    target = processed_place(sent, sent.parent, DAY)
    with monkeypatch.context() as patched:
        patched.setattr(os, "rename", other_file_system)
        move(sent, target)
    assert target.read_bytes() == CONTENT
    assert not sent.exists()
    assert [p.name for p in target.parent.iterdir()] == [target.name]


@pytest.mark.parametrize("refused", [False, True], ids=["loaded", "refused"])
def test_a_run_killed_while_copying_to_another_file_system_leaves_no_cut_off_file(sent, monkeypatch, refused):
    # Before: shutil.move copied straight to the final name, so a kill mid-copy left a cut-off workbook in
    # processed/ (or rejected/) under the name etl.files records, beside the whole one still in the inbox.
    target = processed_place(sent, sent.parent, DAY)
    with monkeypatch.context() as patched, pytest.raises(Killed):
        patched.setattr(os, "rename", other_file_system)
        patched.setattr(shutil, "copyfile", cut_off)
        if refused:
            move_rejected(sent, sent.parent, DAY, "not a workbook", target=target)
        else:
            move(sent, target)
    assert sent.read_bytes() == CONTENT
    assert not target.exists()
