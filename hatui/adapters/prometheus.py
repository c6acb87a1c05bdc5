"""A Prometheus server's HTTP API, read-only: the fleet's instant queries (urllib).

Every failure (refused, unreachable, slow, an HTTP or PromQL error, a reply that is not
the API's JSON) becomes one PrometheusError line; nothing else escapes.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hatui.errors import RuntimeFault, UsageError
from hatui.fleet.parse import Result
from hatui.fleet.queries import Query

TIMEOUT_S = 5.0
DEFAULT_INTERVAL_S = 15.0
_DURATION = re.compile(r"(\d+)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class PrometheusError(RuntimeFault):
    """The server did not give a usable answer; the message is one line."""


def base_url(url: str) -> str:
    """`http://host:9090` (or a path prefix) without its trailing slash and without any
    `user:password@`; UsageError if it is not an http(s) URL."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl() or url
        raise UsageError(f"--fleet {shown}: expected the Prometheus URL, e.g. http://prom:9090")
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc).geturl().rstrip("/")


def basic_auth(url: str) -> str | None:
    """The Authorization header for `http://user:password@host` (as curl takes it)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.username is None:
        return None
    pair = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


@dataclass(frozen=True, slots=True, kw_only=True)
class Answers:
    """One refresh: each query's result list, and what it cost."""

    results: dict[str, Result]
    queries: int
    elapsed_s: float


class Prometheus:
    """The HTTP API at `url` (HTTP proxies from the environment apply, as with curl).
    Credentials in the URL become a Basic Authorization header; messages never show them."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT_S) -> None:
        self.url = base_url(url)
        self.timeout = timeout
        self._headers = {"Accept-Encoding": "gzip"}
        if (auth := basic_auth(url)) is not None:
            self._headers["Authorization"] = auth
        self._opener = urllib.request.build_opener()

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        url = f"{self.url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        # Compressed, a fleet's answer is about a seventeenth of its size: it matters when
        # the console is far from the Prometheus that holds the fleet.
        request = urllib.request.Request(url, headers=self._headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as reply:
                body = _read(reply)
        except urllib.error.HTTPError as exc:
            try:
                error = _api_error(_read(exc))
            except (OSError, EOFError, gzip.BadGzipFile):
                error = ""
            raise PrometheusError(f"Prometheus at {self.url}: {error or exc}") from None
        except urllib.error.URLError as exc:
            raise PrometheusError(f"Prometheus at {self.url}: {self._reason(exc.reason)}") from None
        except OSError as exc:  # TimeoutError included: a slow reply
            raise PrometheusError(f"Prometheus at {self.url}: {self._reason(exc)}") from None
        except (EOFError, gzip.BadGzipFile):
            raise PrometheusError(f"Prometheus at {self.url}: a truncated reply") from None
        try:
            doc = json.loads(body)
        except ValueError:
            raise PrometheusError(f"Prometheus at {self.url}: the reply is not JSON") from None
        if not isinstance(doc, dict) or doc.get("status") != "success":
            raise PrometheusError(f"Prometheus at {self.url}: {_api_error(body) or 'no success'}")
        return doc.get("data")

    def _reason(self, reason: object) -> str:
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return f"no answer within {self.timeout:g} s"
        if isinstance(reason, OSError) and reason.strerror:
            return reason.strerror.lower()
        return str(reason)

    def query(self, expr: str) -> Result:
        """An instant vector query: the API's `result` list."""
        data = self._get("/api/v1/query", {"query": expr})
        if not isinstance(data, dict) or data.get("resultType") != "vector":
            raise PrometheusError(f"Prometheus at {self.url}: {expr}: not an instant vector")
        result = data.get("result")
        return result if isinstance(result, list) else []

    def ask(self, queries: Sequence[Query]) -> Answers:
        """Every query of one refresh, side by side (each is one round trip)."""
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, len(queries))) as pool:
            futures = {q.key: pool.submit(self.query, q.expr) for q in queries}
            results = {key: f.result() for key, f in futures.items()}
        return Answers(results=results, queries=len(queries), elapsed_s=time.monotonic() - start)

    def scrape_interval(self) -> float:
        """The shortest scrape_interval of the server's config (the console refreshes at
        it), or DEFAULT_INTERVAL_S when the config cannot be read."""
        try:
            data = self._get("/api/v1/status/config")
        except PrometheusError:
            return DEFAULT_INTERVAL_S
        text = data.get("yaml", "") if isinstance(data, dict) else ""
        found = [parse_duration(m) for m in re.findall(r"scrape_interval:\s*(\S+)", text)]
        seconds = [s for s in found if s]
        return min(seconds) if seconds else DEFAULT_INTERVAL_S


def parse_duration(text: str) -> float:
    """Prometheus durations (`1m30s`, `500ms`) in seconds; 0.0 for anything else."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return 0.0
    return sum(int(n) * _UNIT_S[u] for n, u in parts)


def _read(reply: Any) -> bytes:
    """The body of a reply (or an HTTP error), uncompressed."""
    body: bytes = reply.read()
    if reply.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body


def _api_error(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return ""
    if isinstance(doc, dict) and doc.get("error"):
        return f"{doc.get('errorType', 'error')}: {doc['error']}".replace("\n", " ")
    return ""
