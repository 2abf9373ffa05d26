"""The stale-read probe: does a read carrying a write's consistency token ever
miss that write? And without the token?

Against a running ``serve`` (primary + replica): N times, post a job, then read
it back at once twice: without a token, then with the ``Azora-Consistency-Token``
the write returned. A 404 is a stale read. With a replica behind by a visible
delay (``recovery_min_apply_delay``), the tokenless reads come back stale,
which proves the probe can fail; the token reads never do.

    python loadtests/stale_probe.py http://127.0.0.1:4000 TOKEN CLIENT_ID [N]
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any

TOKEN_HEADER = "Azora-Consistency-Token"


def _call(method: str, url: str, headers: dict[str, str], body: Any = None
          ) -> tuple[int, Any, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            # The headers as a case-insensitive message: servers may send names in
            # any case (falcon sends them lower-cased).
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, None


def probe(base: str, bearer: str, clients: list[int], writes: int = 20) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {bearer}"}
    counts = {"writes": writes, "stale_with_token": 0, "stale_without_token": 0,
              "tokens_missing": 0}
    for number in range(writes):
        status, headers, job = _call("POST", f"{base}/api/jobs",
                                     {**auth, "Content-Type": "application/json"},
                                     {"client_id": clients[number % len(clients)],
                                      "title": f"Stale probe {number}", "description": "probe",
                                      "budget": "10.00", "currency": "USD", "skills": ["sql"]})
        if status != 201:
            raise RuntimeError(f"the probe's write failed with {status}")
        token = headers.get(TOKEN_HEADER)
        if token is None:
            counts["tokens_missing"] += 1
        path = f"{base}/api/jobs/{job['id']}"
        counts["stale_without_token"] += _call("GET", path, auth)[0] == 404
        with_token = {**auth, TOKEN_HEADER: token} if token else auth
        counts["stale_with_token"] += _call("GET", path, with_token)[0] == 404
    return counts


if __name__ == "__main__":  # pragma: no cover - a manual tool
    base, bearer, client = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(probe(base, bearer, [client], int(sys.argv[4]) if len(sys.argv) > 4
                           else 20)))
