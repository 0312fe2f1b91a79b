# What agents typically run: build records, format log lines, parse them back with a regex, round-trip
# everything through JSON, group and sort, redact, and summarize.
import json
import re

LOG_LINE = re.compile(r"(?P<level>INFO|WARN|ERROR) \[(?P<service>[a-z]+)\] request=(?P<id>\d+) took (?P<ms>\d+)ms")
SERVICES = ["auth", "billing", "search", "storage", "mail"]
LEVELS = ["INFO", "INFO", "INFO", "WARN", "ERROR"]


def agent_mix(rounds=16, rows=3_000):
    digest = []
    for round_number in range(rounds):
        seed = 12345 + round_number
        records = []
        lines = []
        for i in range(rows):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            service = SERVICES[seed % 5]
            level = LEVELS[(seed >> 8) % 5]
            ms = seed % 900 + 5
            lines.append(f"{level} [{service}] request={i} took {ms}ms")
            records.append({"id": i, "service": service, "level": level, "ms": ms, "tags": [service[:2], level.lower()]})
        text = "\n".join(lines)
        parsed = [match.groupdict() for match in LOG_LINE.finditer(text)]
        loaded = json.loads(json.dumps({"records": records, "parsed": parsed}))
        by_service = {}
        for record in loaded["records"]:
            entry = by_service.setdefault(record["service"], {"count": 0, "total": 0, "errors": 0})
            entry["count"] += 1
            entry["total"] += record["ms"]
            entry["errors"] += record["level"] == "ERROR"
        slowest = sorted(loaded["records"], key=lambda r: (-r["ms"], r["id"]))[:50]
        redacted = re.sub(r"request=\d+", "request=<id>", text)
        summary = {name: {"mean_ms": round(e["total"] / e["count"], 1), **e} for name, e in sorted(by_service.items())}
        digest.append((len(parsed), len(redacted), slowest[0]["id"], json.dumps(summary, sort_keys=True)))
    return digest
