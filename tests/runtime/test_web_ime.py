"""The web input method, driven in a real browser: uvicorn serves the tiny model's Converter on
a free 127.0.0.1 port in a thread, and Python Playwright drives Debian's headless chromium
(scripts/setup.sh installs it; `playwright install` is never used). Skipped, with the reason,
only when chromium or playwright is missing.
"""

import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from pinyin_hanzi.runtime.converter import Converter
from pinyin_hanzi.runtime.server import create_app
from tiny_run import one_thread, shared_run

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)
# Root in a container, no GPU, a closed network: nothing may start that phones home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    import uvicorn

    with one_thread():
        conv = Converter.load(shared_run(tmp_path_factory) / "model")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # the server takes over the bound socket: no port race
        server = uvicorn.Server(uvicorn.Config(create_app("tiny", conv), log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def page(base_url):
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright not installed (requirements-dev.txt)")
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install chromium fonts-noto-cjk)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def test_typing_pinyin_offers_hanzi_and_keys_commit_them(page, base_url):
    from playwright.sync_api import expect

    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(base_url + "/")
    pinyin, candidates = page.locator("#pinyin"), page.locator("#candidates li")
    output, error = page.locator("#output"), page.locator("#error")

    # Candidates appear while typing; the number key in front of 你好 commits it.
    pinyin.press_sequentially("nihao")
    expect(candidates.filter(has_text="你好")).to_have_count(1)
    texts = [t[1:] for t in candidates.all_inner_texts()]  # "1你好" -> "你好"
    pinyin.press(str(texts.index("你好") + 1))
    expect(output).to_have_value("你好")
    expect(pinyin).to_have_value("")
    expect(candidates).to_have_count(0)

    # Space takes the first candidate, even before the debounced request has gone out.
    pinyin.press_sequentially("xuesheng")
    pinyin.press(" ")
    expect(output).to_have_value(re.compile("^你好..$"))
    first_of_xuesheng = output.input_value()[2:]

    # Backspace on an empty pinyin box deletes the last committed character.
    pinyin.press("Backspace")
    expect(output).to_have_value("你好" + first_of_xuesheng[0])

    # Invalid pinyin shows the API's message; Enter commits the letters as typed.
    pinyin.press_sequentially("nihaoq")
    expect(error).to_contain_text("position 5")
    pinyin.press("Enter")
    expect(output).to_have_value("你好" + first_of_xuesheng[0] + "nihaoq")
    expect(error).to_have_text("")

    # Clicking a candidate commits it too.
    pinyin.press_sequentially("nihao")
    candidates.filter(has_text="你好").click()
    expect(output).to_have_value(re.compile("你好$"))

    assert requested and all(url.startswith(base_url) for url in requested)  # no CDN


def test_a_word_for_the_start_leaves_the_rest_to_type_on(page, base_url):
    """Number keys choose partial candidates: a hanzi for `ni` out of `nihao` shows above the
    box and leaves `hao`; Backspace on the empty box gives the choice's keys back."""
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    pinyin, candidates = page.locator("#pinyin"), page.locator("#candidates li")
    preedit, output = page.locator("#preedit"), page.locator("#output")
    expect(page.locator("#pairs input[type=checkbox]")).to_have_count(11)  # fuzzy pairs

    pinyin.press_sequentially("nihao")
    partial = candidates.locator('button[title="for ni"]')
    expect(partial.first).to_be_visible()
    titles = [b.get_attribute("title") for b in candidates.locator("button").all()]
    index = titles.index("for ni")
    chosen = candidates.nth(index).inner_text()[1:]
    pinyin.press(str(index + 1))
    expect(pinyin).to_have_value("hao")
    expect(preedit).to_have_text(chosen)
    expect(output).to_have_value("")

    for _ in "hao":
        pinyin.press("Backspace")
    expect(pinyin).to_have_value("")
    pinyin.press("Backspace")  # undoes the choice
    expect(pinyin).to_have_value("ni")
    expect(preedit).to_have_text("")

    pinyin.press_sequentially("hao")
    partial = candidates.locator('button[title="for ni"]').first
    expect(partial).to_be_visible()
    partial.click()
    expect(pinyin).to_have_value("hao")
    pinyin.press(" ")  # the first for `hao` uses the keys up: all is committed
    expect(output).to_have_value(re.compile("^" + re.escape(chosen) + ".$"))
    expect(preedit).to_have_text("")
