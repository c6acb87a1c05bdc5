"""`--serve --headless --json` ends its JSON-lines stream with the document, as --watch does."""

from __future__ import annotations

import json

from hatui.lab import Lab
from hatui.lab.nodes import flags, start_hatui


def test_serve_json_stream_ends_with_the_document(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    node = start_hatui(lab, a, [*flags(150), "--duration", "1.5"])
    assert node.proc.wait(10) == 0, node.output()
    lines = [json.loads(line) for line in node.output().splitlines() if line.startswith("{")]
    assert any(e.get("kind") == "node_transition" for e in lines[:-1])
    doc = lines[-1]
    (router,) = doc["routers"]  # the node heard its own adverts: the watcher's view of it
    assert router["vrid"] == 51 and router["master"]["ip"] == "192.0.2.11"
    (instance,) = doc["node"]["instances"]
    assert instance["name"] == "VI_51" and instance["state"] == "INIT"  # after the clean stop
    assert doc["node"]["counters"]["adverts_out"] > 0
