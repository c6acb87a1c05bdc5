"""The Prometheus adapter: every failure is one line, never a traceback."""

from __future__ import annotations

import base64
import gzip
import http.server
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from hatui.adapters.prometheus import Prometheus, PrometheusError, base_url, parse_duration
from hatui.errors import UsageError
from hatui.fleet.queries import fleet_queries


def test_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed at once: nothing listens there
    with pytest.raises(PrometheusError) as err:
        Prometheus(f"http://127.0.0.1:{port}").query("up")
    assert str(err.value) == f"Prometheus at http://127.0.0.1:{port}: connection refused"


def test_slow_server_times_out_in_one_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()  # accepts (the kernel's backlog) and never answers
        port = s.getsockname()[1]
        with pytest.raises(PrometheusError) as err:
            Prometheus(f"http://127.0.0.1:{port}", timeout=0.3).ask(fleet_queries())
    assert str(err.value) == f"Prometheus at http://127.0.0.1:{port}: no answer within 0.3 s"


class _Handler(http.server.BaseHTTPRequestHandler):
    replies: dict[str, tuple[int, bytes]] = {}

    def do_GET(self) -> None:
        code, body = self.replies.get(self.path.split("?")[0], (404, b"not found"))
        if self.headers.get("Authorization", "") != self.replies.get("auth", (0, b""))[1].decode():
            code, body = 401, b"Unauthorized"
        self.send_response(code)
        if body.startswith(b"\x1f\x8b"):
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, tuple[int, bytes]]]]:
    replies: dict[str, tuple[int, bytes]] = {}
    handler = type("H", (_Handler,), {"replies": replies})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", replies
    httpd.shutdown()
    httpd.server_close()


def test_http_and_api_errors_are_one_line(server: tuple[str, dict[str, tuple[int, bytes]]]) -> None:
    url, replies = server
    prom = Prometheus(url)
    replies["/api/v1/query"] = (200, b"<html>a proxy's login page</html>")
    with pytest.raises(PrometheusError, match=r"the reply is not JSON$"):
        prom.query("up")
    body = {"status": "error", "errorType": "bad_data", "error": "1:4: parse error:\nunexpected"}
    for encode in (bytes, gzip.compress):  # Prometheus compresses its errors too
        replies["/api/v1/query"] = (400, encode(json.dumps(body).encode()))
        with pytest.raises(PrometheusError) as err:
            prom.query("up{")
        assert str(err.value) == f"Prometheus at {url}: bad_data: 1:4: parse error: unexpected"
    replies["/api/v1/query"] = (503, b"Service Unavailable")
    with pytest.raises(PrometheusError, match="HTTP Error 503"):
        prom.query("up")
    replies["/api/v1/query"] = (200, b'{"status":"success","data":{"resultType":"matrix"}}')
    with pytest.raises(PrometheusError, match="not an instant vector"):
        prom.query("up[1m]")


def test_a_gzip_reply_is_read_and_a_broken_one_is_one_line(
    server: tuple[str, dict[str, tuple[int, bytes]]],
) -> None:
    url, replies = server
    doc = {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"instance": "a"}, "value": [1, "1"]}]}}  # fmt: skip
    replies["/api/v1/query"] = (200, gzip.compress(json.dumps(doc).encode()))
    assert Prometheus(url).query("up") == doc["data"]["result"]  # type: ignore[index]
    replies["/api/v1/query"] = (200, gzip.compress(json.dumps(doc).encode())[:-8])
    with pytest.raises(PrometheusError, match=r"a truncated reply$"):
        Prometheus(url).query("up")


def test_credentials_in_the_url_are_sent_never_shown(
    server: tuple[str, dict[str, tuple[int, bytes]]],
) -> None:
    url, replies = server
    ok = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
    replies["/api/v1/query"] = (200, ok)
    replies["auth"] = (0, b"Basic " + base64.b64encode(b"ops:s3cr@t"))
    with_auth = url.replace("http://", "http://ops:s3cr%40t@")
    assert Prometheus(with_auth).query("up") == []
    with pytest.raises(PrometheusError) as err:
        Prometheus(url.replace("http://", "http://ops:wrong@")).query("up")
    assert str(err.value) == f"Prometheus at {url}: HTTP Error 401: Unauthorized"
    assert Prometheus(with_auth).url == url


def test_scrape_interval_from_the_config(server: tuple[str, dict[str, tuple[int, bytes]]]) -> None:
    url, replies = server
    prom = Prometheus(url)
    assert prom.scrape_interval() == 15.0  # unreadable: the default
    yaml = (
        "global:\n  scrape_interval: 1m\nscrape_configs:\n- job_name: a\n  scrape_interval: 500ms\n"
    )
    replies["/api/v1/status/config"] = (
        200,
        json.dumps({"status": "success", "data": {"yaml": yaml}}).encode(),
    )
    assert prom.scrape_interval() == 0.5


@pytest.mark.parametrize(
    ("text", "seconds"), [("1m30s", 90.0), ("500ms", 0.5), ("15s", 15.0), ("1h", 3600.0),
                          ("1x", 0.0), ("", 0.0), ("s", 0.0)],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["prom:9090", "ftp://p", "http://", "", "http://u:pw@"])
def test_the_url_must_be_http(bad: str) -> None:
    with pytest.raises(UsageError, match="--fleet") as err:
        base_url(bad)
    assert "pw" not in str(err.value)
    assert base_url("http://p:9090/prefix/") == "http://p:9090/prefix"
