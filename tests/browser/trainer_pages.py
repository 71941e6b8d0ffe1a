"""Driving a trainer element (<nnpy-webcam-classifier>, <nnpy-sound-classifier>) like a person,
for their browser tests: a Chromium whose camera or microphone plays a file, the element's
classes and saving, and getUserMedia failing every way it can (a script that makes the page's
getUserMedia fail as the test asks, window.deviceMode) with the check that each failure is named
with what to do."""

from contextlib import contextmanager
from functools import partial
from urllib.parse import urlparse

from playwright.sync_api import expect

import build  # the repository root is on sys.path (conftest.py)

LOAD_TIMEOUT_MS = 120_000
FAKE_DEVICES = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@contextmanager
def device_browser(browser, profile, *flags, **options):
    """A Chromium of its own with a fake camera and microphone, which play a file when `flags`
    say so (e.g. --use-file-for-fake-audio-capture=F.wav: the flag is per launch; without one,
    Chromium's test pattern and beep), with the suite's executable and flags, a persistent
    profile (IndexedDB survives a relaunch) and only 127.0.0.1 reachable.
    Yields a page with `page.errors`."""
    context = browser.browser_type.launch_persistent_context(
        str(profile), executable_path=build.find_browser(), accept_downloads=True,
        args=[*build.CHROMIUM_FLAGS, *FAKE_DEVICES, *flags],
        **{"viewport": {"width": 1280, "height": 900}, **options})
    blocked = []

    def only_loopback(route):
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_loopback)
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    try:
        yield page
        assert blocked == [], blocked
    finally:
        context.close()


def open_trainer(app, page, url):
    page.goto(url)
    page.evaluate(f"customElements.whenDefined('{app}').then(() => document.querySelector('{app}').ready)")
    status = page.text_content(f"{app} .status")
    assert "Could not" not in status, status
    return status


def card(app, page, index):
    return page.locator(f"{app} .class-card").nth(index)


def count(app, page, index):
    return int(card(app, page, index).locator(".count").text_content().split()[0])


def wait_recorded(app, page, index):
    """(The webcam trainer's.) Until every sample recorded into card `index` has reached Python
    (none still on its way); then its count (Python's total) must be its number of thumbnails
    (put up as each is recorded)."""
    page.wait_for_function(f"""() => !document.querySelector('{app}').classes[{index}].sending""",
                           timeout=30_000)
    assert count(app, page, index) == card(app, page, index).locator(".thumb").count()


def rename(app, page, index, name):
    field = card(app, page, index).locator(".class-name")
    field.fill(name)
    field.press("Enter")
    expect(card(app, page, index).locator(".class-name")).to_have_value(name)


def wait_saved(app, page):
    page.wait_for_function(f"document.querySelector('{app}').shadowRoot.querySelector('.save-state')"
                           ".textContent.startsWith('Saved in this browser')")


def helpers(app):
    """open_trainer(page, url), card(page, i), count(page, i), rename(page, i, name) and
    wait_saved(page) for the element `app`."""
    return tuple(partial(function, app) for function in (open_trainer, card, count, rename, wait_saved))

FAKE_GET_USER_MEDIA = """
window.deviceMode = "real";
const devices = navigator.mediaDevices;
devices.getUserMedia = () => new Promise((resolve, reject) => {
    if (window.deviceMode === "never") { window.answerDevice = reject; return; }  // a prompt left open
    reject(new DOMException("refused by the test", window.deviceMode));
});
Object.defineProperty(Navigator.prototype, "mediaDevices", {
    configurable: true, get: () => (window.deviceMode === "insecure" ? undefined : devices),
});
"""


def failures(noun, connect):
    """Failure name -> words its advice must contain, for a device called `noun`."""
    return {"NotAllowedError": f"Allow the {noun}", "NotFoundError": f"Connect {connect}",
            "NotReadableError": "Close video calls", "OverconstrainedError": f"another {noun}",
            "SecurityError": "own tab", "AbortError": "again"}


def check_every_failure_is_named(page, app, start, advice):
    """Press the element's `start` button under each failure: its name and its `advice` show, and
    the button can be pressed again; then a prompt nobody answers, answered late with a refusal."""
    box = page.locator(f"{app} .device-message")

    def fail_with(mode):
        page.evaluate("(mode) => { window.deviceMode = mode; }", mode)
        page.click(f"{app} {start}")
        expect(box).to_be_visible()
        return box.locator(".device-error-name").text_content(), box.text_content()

    for name, words in advice.items():
        shown, text = fail_with(name)
        assert shown == name and words in text, text
        expect(page.locator(f"{app} {start}")).to_be_enabled()  # one can try again
    shown, text = fail_with("insecure")
    assert shown == "InsecureContextError" and "https://" in text, text

    # a permission prompt nobody answers: after the timeout, a message says what is awaited
    page.evaluate(f"document.querySelector('{app}').setAttribute('permission-timeout', '1')")
    page.evaluate("() => { window.deviceMode = 'never'; }")
    page.click(f"{app} {start}")
    expect(box.locator(".device-error-name")).to_have_text("PermissionTimeoutError", timeout=5000)
    assert "choose Allow" in box.text_content()
    assert page.get_attribute(f"{app} .device-message", "class") == "device-message waiting"
    page.evaluate("window.answerDevice(new DOMException('denied late', 'NotAllowedError'))")
    expect(box.locator(".device-error-name")).to_have_text("NotAllowedError")
    expect(page.locator(f"{app} {start}")).to_be_enabled()
