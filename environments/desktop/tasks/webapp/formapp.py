"""A small local web app for the shipped browser tasks: forms whose submissions it records.

A task's checker cannot take the model's word that a form was sent, and a real site cannot be
reached offline, so the suite serves its own pages on 127.0.0.1 and keeps what arrives:

- ``~/form-submissions.jsonl``: one JSON line per submission, in order (bounded in size);
- ``~/form-submissions/<form>.json``: the latest submission of each form, which a task checks
  with a ``file`` check and a ``json`` subset, e.g.
  ``{"form": "login", "accepted": true, "fields": {"username": "alice"}}``.

A submission is ``{"form", "fields", "accepted", "errors", "seq"}``: ``fields`` maps each field
name to its value (a list when the field was sent more than once; an unchecked checkbox is
absent), ``accepted`` says whether the form's own rules held (the sign-up form wants matching
passwords and the terms box), ``seq`` counts submissions of all forms.

Run with the episode's ``HOME`` (setup commands run there)::

    "$CRADLE_PYTHON" "$CRADLE_TASK_DIR/webapp/formapp.py" --browser login

It listens on a free port, writes its address to ``~/.formapp-url``, and with ``--browser PAGE``
opens that page in Chromium's app mode (a plain window titled with the page title, its profile
inside ``HOME``) and stops when the browser exits. Pages: see ``PAGES``. Standard library only.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_BODY_BYTES = 64 * 1024
"""Largest form body accepted (413 beyond)."""
MAX_LOG_BYTES = 1_000_000
"""The submissions log stops growing here (the latest-submission files are still written)."""
MAX_FIELDS = 50
URL_FILE = ".formapp-url"
LOG_FILE = "form-submissions.jsonl"
LATEST_DIR = "form-submissions"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WINDOW_SIZE = (1000, 720)

STYLE = """
body { font-family: 'DejaVu Sans', sans-serif; font-size: 20px; margin: 24px 32px; }
h1 { font-size: 30px; margin: 0 0 18px; }
label { display: block; margin: 12px 0 4px; }
label.inline { display: inline; margin: 0 24px 0 6px; }
input[type=text], input[type=password], input[type=email], select, textarea {
  font-size: 20px; width: 420px; padding: 4px; }
button { font-size: 20px; margin-top: 18px; padding: 6px 22px; }
.error { color: #a00000; }
a { display: block; margin: 8px 0; }
"""


def _text(name: str, label: str, kind: str = "text", autofocus: bool = False) -> str:
    focus = " autofocus" if autofocus else ""
    return (
        f'<label for="{name}">{label}</label><input type="{kind}" id="{name}" name="{name}"'
        f' autocomplete="off"{focus}>'
    )


def _select(name: str, label: str, options: list[str]) -> str:
    items = "".join(f'<option value="{o.lower()}">{o}</option>' for o in options)
    return f'<label for="{name}">{label}</label><select id="{name}" name="{name}">{items}</select>'


def _check(name: str, label: str, value: str = "on", kind: str = "checkbox") -> str:
    ident = f"{name}-{value}"
    return (
        f'<input type="{kind}" id="{ident}" name="{name}" value="{value}">'
        f'<label class="inline" for="{ident}">{label}</label>'
    )


PAGES: dict[str, tuple[str, str, str]] = {
    # page: (title, form method, fields)
    "login": (
        "Sign in",
        "post",
        _text("username", "Username", autofocus=True)
        + _text("password", "Password", "password")
        + '<br><button type="submit">Sign in</button>',
    ),
    "contact": (
        "Contact us",
        "post",
        _text("name", "Name", autofocus=True)
        + _text("email", "Email", "email")
        + _select("topic", "Topic", ["General", "Sales", "Support", "Billing"])
        + '<label for="message">Message</label>'
        + '<textarea id="message" name="message" rows="3"></textarea><br>'
        + _check("newsletter", "Send me the newsletter")
        + '<br><button type="submit">Send</button>',
    ),
    "search": (
        "Search",
        "get",
        _text("q", "Search the catalogue", autofocus=True)
        + '<br><button type="submit">Search</button>',
    ),
    "survey": (
        "Survey",
        "post",
        "<p>How was your visit?</p>"
        + "".join(
            _check("rating", r, r.lower(), "radio") for r in ("Poor", "Fair", "Good", "Excellent")
        )
        + "<p>What did you use?</p>"
        + "".join(_check("used", f, f.lower()) for f in ("Search", "Cart", "Wishlist"))
        + '<br><button type="submit">Submit survey</button>',
    ),
    "shipping": (
        "Shipping address",
        "post",
        _text("fullname", "Full name", autofocus=True)
        + _text("street", "Street")
        + _text("city", "City")
        + _text("postcode", "Postcode")
        + _select("country", "Country", ["France", "Germany", "Italy", "Norway", "Spain"])
        + '<br><button type="submit">Continue</button>',
    ),
    "signup": (
        "Create account",
        "post",
        _text("username", "Username", autofocus=True)
        + _text("email", "Email", "email")
        + _text("password", "Password", "password")
        + _text("confirm", "Repeat password", "password")
        + "<br>"
        + _check("terms", "I accept the terms")
        + '<br><button type="submit">Create account</button>',
    ),
}
"""Each form page; its submissions are recorded under the page's name."""

INDEX_LINKS = {
    "login": "Sign in",
    "contact": "Contact us",
    "search": "Search the catalogue",
    "survey": "Take the survey",
    "shipping": "Shipping address",
    "signup": "Create an account",
}


def page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>"
    ).encode()


def form_page(name: str) -> bytes:
    title, method, fields = PAGES[name]
    return page(title, f'<form method="{method}" action="/{name}">{fields}</form>')


def index_page() -> bytes:
    links = "".join(f'<a href="/{n}">{html.escape(t)}</a>' for n, t in INDEX_LINKS.items())
    return page("Forms", links)


def parse_fields(query: str) -> dict[str, Any]:
    """Form fields from a urlencoded body or query: one value as a string, repeats as a list."""
    parsed = parse_qs(query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def rule_errors(form: str, fields: dict[str, Any]) -> list[str]:
    """What breaks the form's own rules (only sign-up has any)."""
    if form != "signup":
        return []
    errors = []
    if not fields.get("username"):
        errors.append("a username is required")
    if fields.get("password", "") != fields.get("confirm", "") or not fields.get("password"):
        errors.append("the passwords do not match")
    if fields.get("terms") != "on":
        errors.append("the terms must be accepted")
    return errors


class Recorder:
    """Writes submissions to the log and the per-form latest files (one writer at a time)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.lock = threading.Lock()
        self.seq = 0

    def record(self, form: str, fields: dict[str, Any]) -> dict[str, Any]:
        errors = rule_errors(form, fields)
        with self.lock:
            self.seq += 1
            entry = {
                "form": form,
                "fields": fields,
                "accepted": not errors,
                "errors": errors,
                "seq": self.seq,
            }
            line = json.dumps(entry, ensure_ascii=False) + "\n"
            log = self.home / LOG_FILE
            size = log.stat().st_size if log.exists() else 0
            if size + len(line.encode()) <= MAX_LOG_BYTES:
                with open(log, "a", encoding="utf-8") as out:
                    out.write(line)
            latest = self.home / LATEST_DIR / f"{form}.json"
            latest.parent.mkdir(parents=True, exist_ok=True)
            partial = latest.with_suffix(".json.part")
            partial.write_text(json.dumps(entry, ensure_ascii=False, indent=1), encoding="utf-8")
            partial.replace(latest)
        return entry


def result_page(entry: dict[str, Any]) -> bytes:
    if not entry["accepted"]:
        items = "".join(f'<p class="error">{html.escape(e)}</p>' for e in entry["errors"])
        back = f'<a href="/{entry["form"]}">Try again</a>'
        return page("Please correct the form", items + back)
    if entry["form"] == "search":
        query = str(entry["fields"].get("q", ""))
        return page(f"Results for {query}", "<p>No products match yet.</p>")
    rows = "".join(
        f"<p>{html.escape(k)}: {html.escape(str(v))}</p>"
        for k, v in entry["fields"].items()
        if "password" not in k and k != "confirm"
    )
    return page("Thank you", f"<p>Your {entry['form']} form was received.</p>{rows}")


def handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server spelling
            parts = urlsplit(self.path)
            name = parts.path.strip("/")
            if name == "":
                self._send(200, index_page())
            elif name == "search" and parts.query:
                self._send(200, result_page(recorder.record(name, parse_fields(parts.query))))
            elif name in PAGES:
                self._send(200, form_page(name))
            else:
                self._send(404, page("Not found", "<p>No such page.</p>"))

        def do_POST(self) -> None:  # noqa: N802
            name = urlsplit(self.path).path.strip("/")
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if name not in PAGES:
                self._send(404, page("Not found", "<p>No such form.</p>"))
            elif not 0 <= length <= MAX_BODY_BYTES:
                self._send(413, page("Too large", "<p>The form is too large.</p>"))
            else:
                body = self.rfile.read(length).decode("utf-8", "replace")
                self._send(200, result_page(recorder.record(name, parse_fields(body))))

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None  # quiet: the record is the submissions log

    return Handler


def find_browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("formapp: no Chromium found (apt-get install chromium)")


def browser_command(url: str, home: Path) -> list[str]:
    """Chromium in app mode with a fresh profile in ``home``, quiet and offline."""
    profile = home / ".config" / "formapp-chromium"
    prefs = profile / "Default" / "Preferences"
    prefs.parent.mkdir(parents=True, exist_ok=True)
    # No "save password?" bubble after the sign-in forms: it would be a second window.
    prefs.write_text(
        json.dumps(
            {"credentials_enable_service": False, "profile": {"password_manager_enabled": False}}
        )
    )
    argv = [
        find_browser(),
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--password-store=basic",
        "--disable-gpu",
        "--disable-features=Translate,MediaRouter,AutofillServerCommunication",
        "--test-type",
        "--force-device-scale-factor=1",
        "--window-position=0,0",
        # With ACCESSIBILITY_ENABLED=1 (set for launched apps) the page joins the AT-SPI tree.
        "--force-renderer-accessibility",
        f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}",
        f"--app={url}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return argv


def write_url(home: Path, url: str) -> None:
    partial = home / (URL_FILE + ".part")
    partial.write_text(url + "\n", encoding="utf-8")
    partial.replace(home / URL_FILE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--home",
        type=Path,
        default=Path.home(),
        help="where the address and the submissions are written (default ~)",
    )
    parser.add_argument(
        "--browser",
        metavar="PAGE",
        choices=["", *PAGES],
        help="open this page in Chromium and stop when it exits",
    )
    args = parser.parse_args(argv)
    home = args.home.expanduser()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(Recorder(home)))
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    write_url(home, url)
    if args.browser is None:
        server.serve_forever()
        return 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    browser = subprocess.Popen(
        browser_command(f"{url}/{args.browser}", home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the browser goes with us
    try:
        return browser.wait()
    finally:
        if browser.poll() is None:
            browser.terminate()
            browser.wait(timeout=10)
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
