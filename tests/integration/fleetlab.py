"""A fleet lab: hatui nodes and a watcher exporting metrics, and Debian's Prometheus
scraping them from a namespace of its own (queried there, on 127.0.0.1)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hatui.lab import Host, Lab
from tests.conftest import require
from tests.integration.nodelab import (
    HATUI,
    HatuiNode,
    flags,
    start_hatui,
    vrrp_conf,
    wait_for,
)

RULES = Path(__file__).resolve().parents[2] / "prometheus"
SCRAPE = "500ms"
METRICS_PORT = 9650
WATCH_PORT = 9651


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class FleetLab:
    lab: Lab
    nodes: dict[str, HatuiNode]
    prom_host: Host
    prom: subprocess.Popen[bytes]
    url: str
    targets: list[str]

    def run(self, argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """`argv` inside Prometheus's namespace."""
        return subprocess.run(
            self.prom_host.argv(argv), capture_output=True, text=True, timeout=timeout, check=False
        )

    def api(self, path: str, **params: str) -> Any:
        """A GET on the HTTP API, from inside its namespace: the decoded JSON."""
        url = f"{self.url}{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
        out = self.run(["curl", "-s", "--max-time", "5", url]).stdout
        try:
            return json.loads(out)
        except ValueError:
            return {}

    def query(self, expr: str) -> list[dict[str, Any]]:
        doc = self.api("/api/v1/query", query=expr)
        result: list[dict[str, Any]] = doc.get("data", {}).get("result", [])
        return result

    def fleet(self, *extra: str) -> tuple[int, dict[str, Any], str]:
        """`hatui --fleet URL --headless --json`: exit code, document, stderr."""
        done = self.run([*HATUI, "--fleet", self.url, "--headless", "--json", *extra])
        try:
            doc = json.loads(done.stdout) if done.stdout.strip() else {}
        except ValueError:
            doc = {}
        return done.returncode, doc, done.stderr


CHECKED_A = vrrp_conf(
    "a",
    150,
    scripts='vrrp_script chk_ok {\n    script "/bin/true"\n    interval 1\n    weight -10\n}\n',
    track_scripts=["chk_ok"],
)


def start_fleet_lab(lab: Lab, *, rules: bool = True) -> FleetLab:
    """Nodes a (priority 150) and b (100) for VRID 51, a watcher on the observer host,
    Prometheus scraping all three every SCRAPE."""
    require(shutil.which("prometheus") is not None, "needs prometheus (apt-get install prometheus)")
    require(shutil.which("curl") is not None, "needs curl")
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    nodes = {
        # a from keepalived.conf with a check script, so that tracker series exist too.
        "a": start_hatui(lab, a, ["--metrics", str(METRICS_PORT)], conf=CHECKED_A),
        "b": start_hatui(lab, b, [*flags(100), "--metrics", str(METRICS_PORT)]),
    }
    obs = lab.add_host("o", 9, silent=True)
    lab.spawn(obs, [*HATUI, "--watch", "eth0", "--headless", "--metrics", str(WATCH_PORT)])
    p = lab.add_host("p", 8)
    port = free_port()
    targets = [f"{a.ip}:{METRICS_PORT}", f"{b.ip}:{METRICS_PORT}", f"{obs.ip}:{WATCH_PORT}"]
    conf = lab.workdir / "prometheus.yml"
    rule_files = f"rule_files:\n  - {RULES / 'hatui-alerts.yml'}\n" if rules else ""
    conf.write_text(
        f"global:\n  scrape_interval: {SCRAPE}\n  evaluation_interval: {SCRAPE}\n"
        f"{rule_files}"
        "scrape_configs:\n  - job_name: hatui\n    static_configs:\n"
        f"      - targets: {json.dumps(targets)}\n"
    )
    prom = lab.spawn(
        p,
        ["prometheus", f"--config.file={conf}", f"--storage.tsdb.path={lab.workdir / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        log="prometheus.log",
    )  # fmt: skip
    fl = FleetLab(
        lab=lab, nodes=nodes, prom_host=p, prom=prom, url=f"http://127.0.0.1:{port}",
        targets=targets,
    )  # fmt: skip

    def all_up() -> bool:
        up = [r for r in fl.query("up") if r["value"][1] == "1"]
        return len(up) == len(targets)

    wait_for(all_up, 30, "Prometheus to scrape every target")
    return fl


def state_of(fl: FleetLab, node: str) -> float | None:
    res = fl.query(f'keepalived_vrrp_state{{iname="VI_51",instance="{node}"}}')
    return float(res[0]["value"][1]) if res else None


def record_answers(fl: FleetLab, match: str = "") -> dict[str, Any]:
    """The raw answers of one refresh (the API's result lists), asked from the namespace."""
    code = (
        "import json, sys; from hatui.adapters.prometheus import Prometheus;"
        "from hatui.fleet.queries import fleet_queries;"
        "a = Prometheus(sys.argv[1]).ask(fleet_queries(sys.argv[2]));"
        "print(json.dumps(a.results, indent=1, sort_keys=True))"
    )
    done = fl.run([sys.executable, "-c", code, fl.url, match])
    assert done.returncode == 0, done.stderr
    answers: dict[str, Any] = json.loads(done.stdout)
    return answers
