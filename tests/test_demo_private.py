"""`lawful demo` makes a data directory another account can read private and carries on (a directory made with
mkdir, or a systemd StateDirectory, is 0755), where every other operator command refuses it."""

from __future__ import annotations

import io
import os
from contextlib import contextmanager

import pytest
from rich.console import Console

from tests.conftest import run_cli


class _Reached(Exception):
    pass


@pytest.fixture
def _umask_kept():
    """Operator commands set the process's umask to 077 (server_files.make_private); put it back after."""
    umask = os.umask(0o077)
    os.umask(umask)
    yield
    os.umask(umask)


def test_the_demo_tightens_a_loose_data_directory_where_operator_commands_refuse(tmp_path, monkeypatch, capsys,
                                                                                _umask_kept):
    import lawful.demo as demo

    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    monkeypatch.setenv("LAWFUL_DATA_DIR", str(data))
    monkeypatch.delenv("LAWFUL_DATABASE_URL", raising=False)
    code, out, err = run_cli(["admin", "db", "upgrade"], capsys)
    assert code == 2 and "open to other accounts" in err

    @contextmanager
    def stop_at_the_server(settings, port=None):
        raise _Reached
        yield

    monkeypatch.setattr(demo, "serving", stop_at_the_server)
    with pytest.raises(_Reached):
        demo.run(Console(file=io.StringIO()), None)
    assert data.stat().st_mode & 0o077 == 0
