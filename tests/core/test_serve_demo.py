"""`punch serve --demo` as `make run` starts it: real gunicorn workers, the demo, the rules.

Regression: the demo's invoices start the e-invoice rule engine (SaxonC); started in
gunicorn's master, it crashed the forked worker on the first validation request.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("PUNCHCLOCK_TEST_DATABASE_URL")),
    reason="runs once, on the embedded database the command uses (the SQLite half)",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_served_demo_issues_and_validates_in_its_workers(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(PUNCHCLOCK_DATA_DIR=str(tmp_path), SECRET_KEY="serve-test-" + "x" * 40)
    log = (tmp_path / "serve.log").open("w")
    punch = Path(sys.executable).with_name("punch")
    server = subprocess.Popen(
        [str(punch), "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        for _ in range(120):
            try:
                page = browser.open(f"{base}/accounts/login/", timeout=5).read().decode()
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.5)
        else:
            pytest.fail("the server did not start: " + (tmp_path / "serve.log").read_text())

        def post(path: str, fields: dict[str, str], form_page: str) -> str:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page)
            assert token, form_page[:500]
            data = urllib.parse.urlencode({"csrfmiddlewaretoken": token[1], **fields}).encode()
            request = urllib.request.Request(f"{base}{path}", data=data)  # noqa: S310 - http
            request.add_header("Referer", f"{base}{path}")
            return browser.open(request, timeout=30).read().decode()

        post(
            "/accounts/login/",
            {"email": "demo@punchclock.test", "password": "billable-hours"},
            page,
        )
        listing = browser.open(f"{base}/invoices/", timeout=10).read().decode()
        first = re.search(r'href="/invoices/(\d+)/"', listing)
        assert first, "the demo has issued invoices"
        detail_path = f"/invoices/{first[1]}/"
        detail = browser.open(f"{base}{detail_path}", timeout=10).read().decode()
        checked = post(f"/invoices/{first[1]}/einvoice/validate/", {}, detail)
        assert checked.count('<span class="badge badge-ok">valid</span>') >= 2
        assert server.poll() is None
        assert "Fatal error" not in (tmp_path / "serve.log").read_text()
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
