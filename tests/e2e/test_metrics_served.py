"""/metrics under `botram serve --processes 2` (gunicorn, prometheus-client's multiprocess mode): whichever worker
answers the scrape counts the requests both workers served; no citizen's name, NIK, phone, ticket code or token
in the scrape or in the JSON log lines; and `botram run` in a fresh directory serves the demo."""
from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from .conftest import BOTRAM, api, demo_ids
from .test_serve import wait_until, workers

NAME, NIK, PHONE = "Siti Rahmawati Kusumadewi", "3216014508950001", "081234567890"


def get(url: str) -> tuple[int, str, str]:
    """A GET on a connection of its own (so the kernel may hand it to either worker): status, worker, body."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["X-Botram-Worker"], response.read().decode()


def requests_total(text: str, route: str, status: str = "200") -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (sample.name == "botram_http_requests_total" and sample.labels["route"] == route
                    and sample.labels["status"] == status and sample.labels["method"] == "GET"):
                return sample.value
    return 0


def test_two_workers_add_up_their_counters_and_name_no_one(live_server):
    server = live_server
    server.stop()
    server.settings.update({"BOTRAM_METRICS_ADDRESSES": "127.0.0.1", "BOTRAM_LOG_FORMAT": "json"})
    server.start(processes=2, port=0)
    wait_until(lambda: len(workers(server)) == 2, what="two workers")

    reception = server.cli("create-token", "resepsionis").strip()
    event_id, desks = demo_ids(server)
    status, visit = api(server, "POST", f"/api/v1/events/{event_id}/visits", reception,
                        {"services": [desks[1]["services"][0]["id"]], "name": NAME, "nik": NIK, "phone": PHONE})
    assert status == 201
    status_path = urllib.request.urlparse(visit["status_url"]).path
    assert get(server.url + status_path)[0] == 200

    served = {"1": 0, "2": 0}
    deadline = time.monotonic() + 60
    while min(served.values()) < 3 or sum(served.values()) < 20:
        assert time.monotonic() < deadline, f"the kernel kept to one worker: {served}"
        code, worker, _ = get(server.url + "/healthz")
        assert code == 200
        served[worker] += 1

    # Both workers answer scrapes in turn; each one's answer holds every worker's count.
    scraped_by = set()
    while scraped_by != {"1", "2"}:
        assert time.monotonic() < deadline, f"only worker(s) {scraped_by} answered the scrape"
        code, worker, text = get(server.url + "/metrics")
        assert code == 200
        assert requests_total(text, "/healthz") == sum(served.values()), (worker, served)
        assert requests_total(text, "/status/<token>") == 1
        scraped_by.add(worker)

    assert re.search(r'^botram_people_waiting\{event_id="%d",service="[^"]+"\} 1\.0$' % event_id, text, re.M)
    assert "botram_database_up 1.0" in text
    log = (server.databases.workdir / f"{server.name}-{server.starts}.log").read_text()
    token = status_path.rsplit("/", 1)[1]
    for secret in (NAME, NIK, PHONE, token, visit["code"], reception):
        assert secret not in text, f"{secret!r} in the scrape"
        assert secret not in log, f"{secret!r} in the log"

    # The log in BOTRAM_LOG_FORMAT=json: every line an object, but the command's own "serving on" line.
    lines = [line for line in log.splitlines() if line.strip() and not line.startswith("BOTRAM serving on")]
    assert lines and all(json.loads(line)["message"] for line in lines)

    # The workers' metric files live in a directory of this start, which the stop removes.
    folders = {Path(m.group(1)) for pid in workers(server)
               for m in re.finditer(r"(/\S*/botram-metrics-[^/\s]+)/", Path(f"/proc/{pid}/maps").read_text())}
    assert len(folders) == 1 and next(iter(folders)).is_dir(), folders
    server.stop()
    assert not next(iter(folders)).exists()


def test_botram_run_in_a_fresh_directory_serves_the_demo(tmp_path):
    """What a Windows laptop does after `pip install`: one command, from an empty folder, to the signed-in demo."""
    env = {key: value for key, value in __import__("os").environ.items()
           if not key.startswith("BOTRAM_") and key not in ("HOST", "PORT", "DEMO_PASSWORD")}
    env.update({"BOTRAM_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONUNBUFFERED": "1"})
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([BOTRAM, "run", "--port", "0", "--processes", "1", "--password", "sandi-laptop-1"],
                                   cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not (found := re.search(r"BOTRAM serving on (http://127\.0\.0\.1:\d+) ", log_path.read_text())):
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        printed = log_path.read_text()
        assert "Demo password (unless changed): sandi-laptop-1" in printed
        assert re.search(r"^\s+admin\s+Administrator BOTRAM$", printed, re.M)
        assert Path(tmp_path / "instance" / "botram.sqlite").exists()
        url = found.group(1)
        wait_until(lambda: _answers(url + "/readyz"), timeout=30, what="the server to answer")

        import requests

        with requests.Session() as browser:
            page = browser.get(url + "/login", timeout=10)
            csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
            home = browser.post(url + "/login", data={"username": "admin", "password": "sandi-laptop-1",
                                                      "csrf_token": csrf}, timeout=10)
            assert home.status_code == 200 and "BOTRAM Pasar Bersih Jababeka" in home.text
    finally:
        process.terminate()
        assert process.wait(30) == 0


def _answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False
