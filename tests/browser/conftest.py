"""The console in a real browser: Debian's Chromium driven by Playwright.

Run them with `pytest tests/browser` (they are marked `browser`, so `-m browser` or
`-m "not browser"` select them). They need Chromium at /usr/bin/chromium: `make
browser-deps` installs Debian's chromium and chromium-driver (as root; CI does this in
`.ci/run`). Playwright's own browser download is not used.

Without Chromium the browser tests FAIL, so that CI cannot go green without them. A
developer without Chromium skips them explicitly:

    SKIP_BROWSER_TESTS=1 pytest

How the harness works:
- one Chromium per test process (session scope), launched headless with flags that keep
  it off the network (no background services, updates or sync) and a fresh profile;
- pytest-django's `live_server` serves the app over real HTTP on 127.0.0.1, with the
  admin's static files; it reads and writes the test database, so browser tests use
  `transactional_db` (rows a test creates are committed, visible to the server thread,
  and flushed afterwards);
- `console_login(user)` opens a new browser context (no cookies), logs the user in by
  typing into the admin's login form and clicking "Log in", and returns a `ConsolePage`;
- `ConsolePage.visit()` opens a page, keeps its response, saves a full-page screenshot
  under test-artifacts/screenshots/ named after the test, and every console error and
  uncaught JavaScript exception (a CSP violation is a console error) is collected in
  `ConsolePage.problems`;
- the browser stands in for the deployment's web server on two paths the app does not
  serve itself: /media/ (uploaded masters, from this test's MEDIA_ROOT) and
  /favicon.ico (the app has none; 204).
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    Request,
    Response,
    Route,
    sync_playwright,
)

from tests.factories import UserFactory
from variants.rendering.demo_media import make_synthetic_master

CHROMIUM = Path("/usr/bin/chromium")
# Headless, as root, and quiet on this machine's closed network: without the
# background-networking flags Chromium's own connections are refused and logged.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "pass-word-123"  # tests.factories.UserFactory's
# A page, a click or a wait that takes longer than this is a failure, not a hang.
TIMEOUT_MS = 15_000
LAUNCH_TIMEOUT_MS = 120_000


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if os.environ.get("SKIP_BROWSER_TESTS") == "1":
        pytest.skip("SKIP_BROWSER_TESTS=1: browser tests skipped on purpose")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need it. Install it "
            "with `make browser-deps` (root: Debian's chromium and chromium-driver), "
            "or skip these tests locally with SKIP_BROWSER_TESTS=1.",
            pytrace=False,
        )
    # Playwright's sync API keeps an asyncio loop running in this thread, and Django
    # refuses ORM calls while a loop runs (SynchronousOnlyOperation). The tests are
    # plain synchronous code that only shares the thread with that loop, so the check
    # is lifted for the rest of this test process: Playwright's documented remedy.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as driver:
            yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Playwright starts every launch on a new empty profile in a temporary folder
    # (a --user-data-dir of our own is refused by launch()) and removes it on close.
    # A loaded CI machine can take long to start Chromium: wait, and try once more.
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=LAUNCH_TIMEOUT_MS
        )
    except Error:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=LAUNCH_TIMEOUT_MS
        )
    yield browser
    browser.close()


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _safe(text: str) -> str:
    """A file name part: ids become "obj", so a test's screenshots keep their names."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", _UUID.sub("obj", text)).strip("-")[:120]


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _serve_media(route: Route, request: Request) -> None:
    """Uploaded files, as the deployment's web server serves MEDIA_ROOT (Django only
    does under DEBUG, and the live server runs with DEBUG off). Byte ranges are
    answered too: a <video> seeks to a cut's in-point only when the server has them."""
    name = unquote(urlsplit(request.url).path).removeprefix(settings.MEDIA_URL)
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / name).resolve()
    if not (path.is_relative_to(root) and path.is_file()):
        route.fulfill(status=404)
        return
    body = path.read_bytes()
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Type": mimetypes.guess_type(path.name)[0]
        or "application/octet-stream",
    }
    wanted = _RANGE.fullmatch(request.headers.get("range", ""))
    if wanted is None:
        route.fulfill(status=200, body=body, headers=headers)
        return
    first, last = wanted.groups()
    start = int(first) if first else max(len(body) - int(last), 0)
    end = min(int(last), len(body) - 1) if first and last else len(body) - 1
    route.fulfill(
        status=206,
        body=body[start : end + 1],
        headers={**headers, "Content-Range": f"bytes {start}-{end}/{len(body)}"},
    )


@dataclass
class ConsolePage:
    """A browser tab on the live server that records what the browser complained of."""

    page: Page
    base_url: str
    test_name: str
    problems: list[str] = field(default_factory=list)
    _shots: int = 0

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"{self.path}: console error: {message.text}")

    def _on_page_error(self, error: Error) -> None:
        self.problems.append(f"{self.path}: JavaScript error: {error}")

    @property
    def path(self) -> str:
        return self.page.url.removeprefix(self.base_url)

    def visit(self, path: str) -> Response:
        """Open `path` on the live server, wait for it to load, and screenshot it."""
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None, f"no response for {path}"
        self.screenshot()
        return response

    def screenshot(self, label: str = "") -> Path:
        """Save the whole page as test-artifacts/screenshots/<test>-<nn>-<page>.png."""
        self._shots += 1
        name = _safe(label or self.path.split("?")[0]) or "root"
        target = SCREENSHOTS / f"{self.test_name}-{self._shots:02d}-{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def submit_login(self, username: str, password: str) -> Response:
        """Type into the admin's login form and click "Log in"; the answer to the POST."""
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        with self.page.expect_response(
            lambda r: r.request.method == "POST" and "/admin/login/" in r.url
        ) as answer:
            self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state("load")
        self.screenshot(f"after-login-as-{username}")
        return answer.value


@pytest.fixture
def console_page(
    browser: Browser, live_server, transactional_db, request: pytest.FixtureRequest
) -> Iterator[Callable[[], ConsolePage]]:
    """A factory of fresh tabs (own cookies) on the live server, closed afterwards."""
    contexts = []
    test_name = _safe(request.node.name)
    for stale in SCREENSHOTS.glob(f"{test_name}-[0-9][0-9]-*.png"):
        stale.unlink()

    def open_page() -> ConsolePage:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.route(f"{live_server.url}{settings.MEDIA_URL}**", _serve_media)
        # Browsers ask every site for /favicon.ico; the app has none and would log a
        # 404 on whichever page the browser happened to ask from.
        context.route(f"{live_server.url}/favicon.ico", lambda r: r.fulfill(status=204))
        contexts.append(context)
        return ConsolePage(
            page=context.new_page(), base_url=live_server.url, test_name=test_name
        )

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def console_login(
    console_page: Callable[[], ConsolePage],
) -> Callable[..., ConsolePage]:
    """Log a user in through the admin login form; the tab, on the page it lands on."""

    def login(username: str, password: str = PASSWORD) -> ConsolePage:
        console = console_page()
        console.visit("/admin/login/?next=/admin/")
        answer = console.submit_login(username, password)
        assert answer.status == 302, f"login as {username} answered {answer.status}"
        assert console.path == "/admin/", (
            f"login as {username} landed on {console.path}"
        )
        return console

    return login


@pytest.fixture
def staff_user(transactional_db) -> Callable[..., object]:
    """A staff user (may open the admin) in the given role groups."""

    def make(username: str, groups: tuple[str, ...] = ()) -> object:
        return UserFactory(username=username, groups=list(groups), is_staff=True)

    return make


@pytest.fixture(scope="session")
def master_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real 12-second H.264/AAC master, small (180x320 at 10 fps), made once."""
    path = tmp_path_factory.mktemp("browser-master") / "master.mp4"
    return make_synthetic_master(
        path, duration=12.0, width=180, height=320, fps=10
    ).read_bytes()
