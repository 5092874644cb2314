"""A small Tk form the desktop tests drive: a label, an Entry and buttons that change the label.

It writes its state as JSON to the file named by ``--state`` on every change (and once at start
with the screen geometry of each widget), so a test can assert what each click or key did
without looking at pixels.

Run: ``python tk_form.py --state FILE [--title T] [--x 300 --y 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tkinter as tk
from pathlib import Path
from typing import Any


class Form:
    """The window and the state it writes."""

    def __init__(self, root: tk.Tk, state_file: Path) -> None:
        self.root = root
        self.state_file = state_file
        self.clicks: list[str] = []
        self.submitted: list[str] = []
        self.count = 0
        font = ("DejaVu Sans", 16)
        self.status = tk.Label(root, text="Waiting", font=font, width=24)
        self.status.pack(padx=20, pady=(20, 10))
        self.entry = tk.Entry(root, font=font, width=24)
        self.entry.pack(padx=20, pady=10)
        self.entry.bind("<Return>", self.on_return)
        row = tk.Frame(root)
        row.pack(padx=20, pady=(10, 20))
        self.apply_button = tk.Button(row, text="Apply", font=font, command=self.on_apply)
        self.apply_button.pack(side="left", padx=10)
        self.count_button = tk.Button(row, text="Count", font=font, command=self.on_count)
        self.count_button.pack(side="left", padx=10)

    def widgets(self) -> dict[str, list[int]]:
        """Each widget's box on screen (x0, y0, x1, y1) in X coordinates."""
        self.root.update_idletasks()
        out = {}
        for name in ("status", "entry", "apply_button", "count_button"):
            w = getattr(self, name)
            x, y = w.winfo_rootx(), w.winfo_rooty()
            out[name] = [x, y, x + w.winfo_width(), y + w.winfo_height()]
        return out

    def state(self) -> dict[str, Any]:
        return {
            "label": self.status.cget("text"),
            "entry": self.entry.get(),
            "clicks": self.clicks,
            "submitted": self.submitted,
            "count": self.count,
            "widgets": self.widgets(),
            "pid": os.getpid(),
        }

    def write(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state()))
        tmp.replace(self.state_file)

    def on_apply(self) -> None:
        self.clicks.append("apply")
        self.status.config(text="Applied")
        self.write()

    def on_count(self) -> None:
        self.clicks.append("count")
        self.count += 1
        self.status.config(text=f"Count {self.count}")
        self.write()

    def on_return(self, _event: object) -> None:
        self.submitted.append(self.entry.get())
        self.status.config(text=f"Hello {self.entry.get()}")
        self.write()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", required=True, type=Path)
    parser.add_argument("--title", default="Cradle Tk Form")
    parser.add_argument("--x", type=int, default=300)
    parser.add_argument("--y", type=int, default=200)
    args = parser.parse_args()
    root = tk.Tk()
    root.title(args.title)
    root.geometry(f"+{args.x}+{args.y}")
    form = Form(root, args.state)
    root.after(200, form.write)
    root.mainloop()


if __name__ == "__main__":
    main()
