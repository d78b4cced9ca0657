"""The Reports pages in a real headless Chromium driven by Selenium (Debian's chromium and
chromium-driver, installed by scripts/install-deps): sign in with a reporter secret, generate an
active report over local dates in a non-UTC zone, watch it finish, download it and compare it
with the independent reference, generate an inactive report, check a report page's figures
against its CSV, sign out. Then what must be refused: a worker secret, another reporter's jobs,
forms without their token or from another site; and hostile text shown as text.

Screenshots go to $TALLY_SCREENSHOTS when set (docs/screenshots/ holds the ones kept)."""

import csv
import io
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cluster_util import Cluster, http, wait_until
from conftest import reference_reports
from e2e_util import csv_header, csv_row, write
from test_tally import assert_same_report

FIRST_DAY, LAST_DAY, ZONE = "2026-10-01", "2026-10-02", "Europe/Paris"
# The local days 2026-10-01 and 2026-10-02 in Paris (UTC+2 then): the window the page must use.
WINDOW = ("2026-09-30T22:00:00Z", "2026-10-02T22:00:00Z")
HOSTILE_EMAIL = '<script>alert("x")</script>@example.com'
HOSTILE_SOURCE = "<b>bold</b><script>s()</script>"


@pytest.fixture(scope="module")
def driver():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        pytest.fail(f"selenium is missing (scripts/install-deps installs it): {e}")
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.fail("chromium and chromedriver are needed (scripts/install-deps installs Debian's chromium and chromium-driver)")
    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1100"):
        options.add_argument(arg)
    # The browser lives in Paris: the pages show local times in its zone.
    d = webdriver.Chrome(options=options, service=Service(chromedriver, env={**os.environ, "TZ": ZONE}))
    d.set_page_load_timeout(60)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def logs(generated, tmp_path_factory):
    """Generated CSV logs around the Paris days, and a handmade source with a hostile e-mail."""
    data = generated.get("web-csv", "twingate-csv", True, users=40, start="2026-09-30T12:00:00Z", hours=60,
                         events_per_hour=400, seed=21)
    hostile = tmp_path_factory.mktemp("hostile")
    write(hostile / "2026-10-01T10.csv", [csv_header(),
                                          csv_row(start_time="2026-10-01 10:00:00 UTC", user=HOSTILE_EMAIL, status="NORMAL",
                                                  client_ip="10.0.0.1", device_id="d1")])
    return data, hostile


@pytest.fixture(scope="module")
def site(tally, logs, tmp_path_factory):
    data, hostile = logs
    sources = [{"name": "logs", "kind": "file", "url": data, "format": "twingate-csv"},
               {"name": HOSTILE_SOURCE, "kind": "file", "url": hostile, "format": "twingate-csv"}]
    c = Cluster(tmp_path_factory.mktemp("web"), sources, tally=tally)
    try:
        c.start_with_tokens(workers=("w1", "w2"))
        c.rita = c.create_token("reporter", "rita")
        c.bob = c.create_token("reporter", "bob")
        c.worker_secret = c.create_token("worker", "other-workers")
        yield c
    finally:
        c.close()


def shot(driver, name, tmp_path, height=1100, width=1280):
    folder = Path(os.environ.get("TALLY_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(width, height)
    driver.save_screenshot(str(folder / f"{name}.png"))
    driver.set_window_size(1280, 1100)


def left(element):
    """Whether `element`'s page is gone (Chromium says so in more than one way)."""
    from selenium.common.exceptions import WebDriverException
    try:
        element.tag_name
        return False
    except WebDriverException:
        return True


def click(driver, element):
    """Clicks a button that posts a form, and waits for the page it leads to."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 30).until(lambda _: left(old))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def click_and_wait(driver, element_id):
    from selenium.webdriver.common.by import By
    click(driver, driver.find_element(By.ID, element_id))


def sign_in(driver, site, secret):
    from selenium.webdriver.common.by import By
    driver.get(site.url + "/sign-in")
    driver.delete_all_cookies()
    driver.get(site.url + "/sign-in")
    driver.find_element(By.ID, "secret").send_keys(secret)
    click_and_wait(driver, "sign-in")


def set_value(driver, element_id, value):
    from selenium.webdriver.common.by import By
    element = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].value = arguments[1];", element, value)


def session_cookie(driver):
    return "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())


def get(site, path, cookie, expect=200):
    request = urllib.request.Request(site.url + path, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    assert status == expect, f"GET {path}: {status} {body[:300]!r}"
    return body


def settled(read, attempts=20):
    """`read()`, tried again while the list's script reloads the page under it (a job ended)."""
    from selenium.common.exceptions import WebDriverException
    for attempt in range(attempts):
        try:
            return read()
        except WebDriverException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)


def wait_state(driver, site, job, states=("succeeded",), timeout=120):
    """Waits on the list (its script polls the API and reloads) until the job's row shows a state in `states`."""
    from selenium.webdriver.common.by import By

    def shown():
        def read():
            rows = driver.find_elements(By.CSS_SELECTOR, f'tr[data-job="{job}"] .state')
            return rows and rows[0].text in states and rows[0].text
        return settled(read)
    return wait_until(shown, timeout, f"job {job} shown {states}", interval=0.5, on_timeout=site.logs)


def wait_all_ended(site):
    """Every job has ended: no list page reloads under the next test."""
    wait_until(lambda: all(j["state"] in ("succeeded", "failed", "cancelled") for j in site.get_json("/v1/jobs?limit=200")["jobs"]),
               120, "every job to end", interval=0.3, on_timeout=site.logs)


def figures_from_csv(text):
    rows = list(csv.DictReader(io.StringIO(text)))
    total = sum(int(r["total_connections"]) for r in rows)
    failed = sum(int(r["failed_connections"]) for r in rows)
    success = sum(int(r["success_connections"]) for r in rows)
    relayed = sum(float(r["percent_relay"]) * int(r["success_connections"]) for r in rows) / 100

    def pct(part, whole):
        return f"{round(part / whole * 100, 2):.2f} %" if whole else "0.00 %"
    return {"users": f"{len(rows):,}", "connections": f"{total:,}", "failed-share": pct(failed, total),
            "dns-failures": f"{sum(int(r['failed_connections_dns']) for r in rows):,}",
            "bytes": f"{sum(int(r['total_bytes']) for r in rows):,}", "relay-share": pct(relayed, success)}


def test_a_reporter_generates_watches_downloads_and_reads_reports(driver, site, logs, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    data, _ = logs
    sign_in(driver, site, site.rita)
    assert driver.current_url == site.url + "/", driver.current_url
    assert "rita (reporter)" in driver.find_element(By.ID, "who").text

    # Generate: active users over two local days in Paris.
    driver.get(site.url + "/reports/new")
    driver.find_element(By.ID, "report-active").click()
    Select(driver.find_element(By.ID, "source")).select_by_value("logs")
    set_value(driver, "from", FIRST_DAY)
    set_value(driver, "to", LAST_DAY)
    Select(driver.find_element(By.ID, "timezone")).select_by_value(ZONE)
    shot(driver, "web-generate", tmp_path)
    click_and_wait(driver, "submit")
    assert driver.current_url == site.url + "/", driver.page_source[:2000]
    job = settled(lambda: driver.find_element(By.CSS_SELECTOR, "tr[data-job]").get_attribute("data-job"))
    wait_state(driver, site, job)
    shot(driver, "web-reports", tmp_path)

    # The download is the reference's report for the Paris days.
    cookie = session_cookie(driver)
    report = get(site, f"/reports/{job}/download", cookie)
    assert_same_report(report, reference_reports({"paris": (data, "twingate-csv", *WINDOW)})["paris"], "web download")
    gz = get(site, f"/reports/{job}/download?gzip=1", cookie)
    import gzip as gzip_module
    assert gzip_module.decompress(gz) == report

    # The report's page: the window in UTC, the figures of its CSV, charts, a sortable preview.
    driver.get(site.url + f"/reports/{job}")
    assert driver.find_element(By.ID, "window-utc").text == f"{WINDOW[0]} – {WINDOW[1]}"
    assert driver.find_element(By.ID, "window-local").text == "2026-10-01T00:00:00+02:00 – 2026-10-03T00:00:00+02:00"
    expected = figures_from_csv(report.decode())
    for key, value in expected.items():
        assert driver.find_element(By.ID, f"figure-{key}").text == value, key
    assert driver.find_elements(By.CSS_SELECTOR, "#chart-top-users svg rect")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#preview tbody tr")) == min(100, report.count(b"\n") - 1)
    driver.get(site.url + f"/reports/{job}?sort=total_connections&order=desc")
    first = driver.find_element(By.CSS_SELECTOR, "#preview tbody tr td:nth-child(3)").text
    most = max(int(r["total_connections"]) for r in csv.DictReader(io.StringIO(report.decode())))
    assert int(first) == most
    shot(driver, "web-report", tmp_path, height=2300)
    shot(driver, "web-report-narrow", tmp_path, height=1400, width=420)

    # An inactive-users report from the same form.
    driver.get(site.url + "/reports/new")
    driver.find_element(By.ID, "report-inactive").click()
    set_value(driver, "inactive_days", "3")
    click_and_wait(driver, "submit")
    inactive = settled(lambda: driver.find_elements(By.CSS_SELECTOR, "tr[data-job]")[0].get_attribute("data-job"))
    assert inactive != job
    wait_state(driver, site, inactive)
    assert get(site, f"/reports/{inactive}/download", session_cookie(driver)).startswith(b"user_email,last_access_date,inactive_days\n")

    # Signed out, the list sends the browser to sign in.
    click_and_wait(driver, "sign-out")
    driver.get(site.url + "/")
    assert driver.current_url == site.url + "/sign-in"


@pytest.mark.parametrize("kind,charts", [
    ("network-summary", ("chart-top-resources", "chart-relay-share")),
    ("resource-access", ("chart-top-access", "chart-client-ips")),
])
def test_the_other_report_kinds_from_the_generate_page(driver, site, logs, tmp_path, kind, charts):
    """Each new kind from the picker: its download is the reference's report, its page shows the figures of its CSV
    and the charts that fit it (top Resources and their relayed share; top users and Resources)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    data, _ = logs
    sign_in(driver, site, site.rita)
    driver.get(site.url + "/reports/new")
    driver.find_element(By.ID, f"report-{kind}").click()
    Select(driver.find_element(By.ID, "source")).select_by_value("logs")
    set_value(driver, "from", FIRST_DAY)
    set_value(driver, "to", LAST_DAY)
    Select(driver.find_element(By.ID, "timezone")).select_by_value(ZONE)
    click_and_wait(driver, "submit")
    assert driver.current_url == site.url + "/", driver.page_source[:2000]
    job = settled(lambda: driver.find_elements(By.CSS_SELECTOR, "tr[data-job]")[0].get_attribute("data-job"))
    wait_state(driver, site, job)
    assert site.status(job)["report"] == kind

    report = get(site, f"/reports/{job}/download", session_cookie(driver))
    expected = reference_reports({kind: (data, "twingate-csv", *WINDOW, False, kind)})[kind]
    assert_same_report(report, expected, f"web download of {kind}")

    driver.get(site.url + f"/reports/{job}")
    rows = list(csv.DictReader(io.StringIO(report.decode())))
    assert driver.find_element(By.ID, "figure-users").text == f"{len(rows):,}"
    assert driver.find_element(By.ID, "figure-connections").text == f"{sum(int(r['total_connections']) for r in rows):,}"
    assert driver.find_element(By.ID, "figure-bytes").text == f"{sum(int(r['total_bytes']) for r in rows):,}"
    for chart in charts:
        assert driver.find_elements(By.CSS_SELECTOR, f"#{chart} svg rect"), chart
    top = max(rows, key=lambda r: int(r["total_connections"]))
    assert f"{int(top['total_connections']):,}<" in driver.find_element(By.ID, charts[0]).get_attribute("innerHTML")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#preview tbody tr")) == min(100, len(rows))
    shot(driver, f"web-report-{kind}", tmp_path, height=2300)


def test_invalid_input_is_shown_next_to_its_field(driver, site):
    from selenium.webdriver.common.by import By
    sign_in(driver, site, site.rita)
    driver.get(site.url + "/reports/new")
    assert driver.find_elements(By.ID, "report-active"), driver.current_url + driver.page_source[:3000]
    driver.find_element(By.ID, "report-active").click()
    set_value(driver, "from", "2026-10-05")
    set_value(driver, "to", "2026-10-01")
    click_and_wait(driver, "submit")
    errors = driver.find_elements(By.CSS_SELECTOR, "p.error")
    assert [e.get_attribute("id") for e in errors] == ["to-error"] and "later than" in errors[0].text, [e.text for e in errors]


def test_a_worker_secret_cannot_sign_in(driver, site):
    from selenium.webdriver.common.by import By
    sign_in(driver, site, site.worker_secret)
    assert driver.current_url == site.url + "/sign-in"
    assert "worker" in driver.find_element(By.ID, "sign-in-error").text
    sign_in(driver, site, "not-a-secret")
    assert "unknown secret" in driver.find_element(By.ID, "sign-in-error").text


def test_a_reporter_sees_only_their_own_reports(driver, site):
    from selenium.webdriver.common.by import By
    rita_job = site.submit("logs", *WINDOW)          # the admin's; and one of rita's through the API
    status, _, body = http("POST", site.url + "/v1/jobs", body=b'{"report":"active-users","source":"logs","from":"%s","to":"%s"}'
                           % (WINDOW[0].encode(), WINDOW[1].encode()),
                           headers={"Authorization": f"Bearer {site.rita}", "Content-Type": "application/json"})
    assert status == 202, body
    import json
    rita_own = json.loads(body)["id"]
    sign_in(driver, site, site.bob)
    listed = settled(lambda: {e.get_attribute("data-job") for e in driver.find_elements(By.CSS_SELECTOR, "tr[data-job]")})
    assert rita_own not in listed and rita_job not in listed
    cookie = session_cookie(driver)
    get(site, f"/reports/{rita_own}", cookie, expect=404)
    get(site, f"/reports/{rita_own}/download", cookie, expect=404)
    get(site, f"/v1/jobs/{rita_own}", cookie, expect=404)
    wait_all_ended(site)


def test_forms_without_their_token_or_from_another_site_are_refused(driver, site):
    from selenium.webdriver.common.by import By
    sign_in(driver, site, site.rita)
    cookie = session_cookie(driver)
    page = get(site, "/reports/new", cookie).decode()
    token = page.split('name="form_token" value="')[1].split('"')[0]
    form = f"report=active-users&source=logs&from={FIRST_DAY}&to={LAST_DAY}&timezone=UTC"
    for extra, headers, what in [
        ("", {}, "no form token"),
        (f"&form_token={token}x", {}, "a wrong form token"),
        (f"&form_token={token}", {"Origin": "http://evil.example"}, "another origin"),
        (f"&form_token={token}", {"Sec-Fetch-Site": "cross-site"}, "a cross-site fetch"),
    ]:
        status, _, body = http("POST", site.url + "/reports", body=(form + extra).encode(),
                               headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded", **headers})
        assert status == 403, (what, status, body[:300])
    # The API refuses changes made with a cookie: those need a bearer secret.
    status, _, _ = http("POST", site.url + "/v1/jobs", body=b'{"report":"active-users","source":"logs"}',
                        headers={"Cookie": cookie, "Content-Type": "application/json"})
    assert status == 401
    # The same form with its token is accepted, and answers carry the security headers.
    request = urllib.request.Request(site.url + "/reports", data=(form + f"&form_token={token}").encode(),
                                     headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request, timeout=30)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 303 and e.headers["Location"] == "/", (e.code, e.read()[:300])
    status, headers, _ = http("GET", site.url + "/", headers={"Cookie": cookie})
    csp = dict((k.lower(), v) for k, v in headers.items())
    assert "script-src 'self'" in csp["content-security-policy"] and "unsafe-inline" not in csp["content-security-policy"]
    assert csp["x-frame-options"] == "DENY" and csp["referrer-policy"] == "same-origin"
    cookies = [c for c in driver.get_cookies() if c["name"] == "tally_session"]
    assert cookies and cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
    wait_all_ended(site)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_hostile_text_is_shown_as_text(driver, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    sign_in(driver, site, site.rita)
    driver.get(site.url + "/reports/new")
    options = [o.text for o in Select(driver.find_element(By.ID, "source")).options]
    assert HOSTILE_SOURCE in options
    Select(driver.find_element(By.ID, "source")).select_by_value(HOSTILE_SOURCE)
    set_value(driver, "from", "2026-10-01")
    set_value(driver, "to", "2026-10-01")
    Select(driver.find_element(By.ID, "timezone")).select_by_value("UTC")
    click_and_wait(driver, "submit")
    job = settled(lambda: driver.find_element(By.CSS_SELECTOR, "tr[data-job]").get_attribute("data-job"))
    wait_state(driver, site, job)
    assert HOSTILE_SOURCE in settled(lambda: driver.find_element(By.CSS_SELECTOR, f'tr[data-job="{job}"]').text)
    driver.get(site.url + f"/reports/{job}")
    cells = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#preview tbody td")]
    assert HOSTILE_EMAIL in cells
    # Only the page's own script: nothing the data carried became an element.
    assert [s.get_attribute("src") for s in driver.find_elements(By.TAG_NAME, "script")] == [site.url + "/assets/app.js"]
    assert not driver.find_elements(By.CSS_SELECTOR, "main b")
    wait_all_ended(site)


def test_admin_pages_tokens_activity_and_schedules(driver, site, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    # A reporter is refused the admin pages (and sees no link to them).
    sign_in(driver, site, site.rita)
    assert not settled(lambda: driver.find_elements(By.CSS_SELECTOR, 'a[href="/admin/tokens"]'))
    driver.get(site.url + "/admin/tokens")
    assert "403" in driver.find_element(By.TAG_NAME, "h1").text
    assert "reporter role may not" in driver.find_element(By.ID, "page-error").text

    sign_in(driver, site, site.api_token)          # ada, the admin
    driver.get(site.url + "/admin/tokens")
    driver.find_element(By.ID, "user").send_keys("carol")
    Select(driver.find_element(By.ID, "role")).select_by_value("reporter")
    click_and_wait(driver, "create")
    secret = driver.find_element(By.ID, "new-secret").text
    shot(driver, "web-admin-tokens", tmp_path)
    status, _, _ = http("GET", site.url + "/v1/jobs", headers={"Authorization": f"Bearer {secret}"})
    assert status == 200
    row = next(r for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-token]") if "carol" in r.text)
    token_id = row.get_attribute("data-token")
    driver.execute_script("arguments[0].scrollIntoView();", row)
    click(driver, row.find_element(By.TAG_NAME, "button"))
    status, _, _ = http("GET", site.url + "/v1/jobs", headers={"Authorization": f"Bearer {secret}"})
    assert status == 401
    assert driver.find_element(By.CSS_SELECTOR, f'tr[data-token="{token_id}"] td:nth-child(7)').text != ""

    # Activity: rita's page requests were logged with auth_type "token"; route her to two logs.
    driver.get(site.url + "/admin/activity?user=rita&operation=view_reports")
    rows = driver.find_elements(By.CSS_SELECTOR, "#activity-rows tbody tr")
    assert rows and all("rita" in r.text and "view_reports" in r.text and "token" in r.text for r in rows), [r.text for r in rows]
    export = get(site, driver.find_element(By.ID, "export").get_attribute("href").replace(site.url, ""), session_cookie(driver)).decode()
    lines = export.splitlines()
    assert lines[0].startswith("_timestamp,request_uuid") and len(lines) == len(rows) + 1
    assert all(",view_reports,token," in line for line in lines[1:]), lines[:3]
    set_value(driver, "setting-user", "rita")
    set_value(driver, "logs", "default,audit")
    click_and_wait(driver, "save-setting")
    assert driver.find_element(By.ID, "shown-setting").text == "rita: logged to default, audit"

    # Schedules: create one, see it, delete it.
    driver.get(site.url + "/admin/schedules")
    driver.find_element(By.ID, "name").send_keys("weekly-web")
    Select(driver.find_element(By.ID, "source")).select_by_value("logs")
    Select(driver.find_element(By.ID, "window")).select_by_visible_text("previous-week")
    Select(driver.find_element(By.ID, "timezone")).select_by_value(ZONE)
    Select(driver.find_element(By.ID, "every")).select_by_visible_text("weekly")
    Select(driver.find_element(By.ID, "weekday")).select_by_visible_text("monday")
    click_and_wait(driver, "create")
    listed = [r for r in driver.find_elements(By.CSS_SELECTOR, "tr[data-schedule]") if "weekly-web" in r.text]
    assert listed and "Europe/Paris" in listed[0].text and "weekly on monday at 06:00" in listed[0].text
    shot(driver, "web-admin-schedules", tmp_path)
    assert [s["request"]["name"] for s in site.get_json("/v1/schedules")["schedules"]] == ["weekly-web"]
    click(driver, listed[0].find_element(By.TAG_NAME, "button"))
    assert site.get_json("/v1/schedules")["schedules"] == []
