#!/usr/bin/env python3
"""Fetches a Prometheus text exposition and parses it with prometheus_client's parser.

Usage: metrics_parse.py URL [TOKEN]
Prints one JSON line: {"families": {name: type}, "samples": [[name, labels, value], ...]}
or {"error": "..."} and exits 1 when the fetch or the parse fails.
"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    url = sys.argv[1]
    request = urllib.request.Request(url)
    if len(sys.argv) > 2:
        request.add_header("Authorization", "Bearer " + sys.argv[2])
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode("utf-8")
        families = {}
        samples = []
        for family in text_string_to_metric_families(text):
            families[family.name] = family.type
            for sample in family.samples:
                samples.append([sample.name, sample.labels, sample.value])
    except Exception as error:  # noqa: BLE001 - reported to the test
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        return 1
    print(json.dumps({"families": families, "samples": samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
