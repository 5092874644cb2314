"""A small retrieval check: desktop-skill descriptions and a paraphrased request for each.

The queries avoid the descriptions' key words where a person would, so a word-matching
embedder scores poorly and a sentence model well. The tests and the benchmark use it to
check that the embedder in use actually retrieves by meaning.
"""

from __future__ import annotations

import numpy as np

from cradle.memory.embedders import Embedder

SKILL_PARAPHRASES: list[tuple[str, str, str]] = [
    # (skill name, description, paraphrased request)
    (
        "save_as",
        "Save As: store the current file with a different file name",
        "save the document under a new name",
    ),
    (
        "open_file",
        "Open an existing file from disk with the Open dialog",
        "load a document I saved earlier",
    ),
    ("new_tab", "Open a new browser tab", "I want another page open next to this one"),
    ("close_window", "Close the active window", "get rid of the program that is in front"),
    (
        "copy_text",
        "Copy the selected text to the clipboard",
        "duplicate the highlighted words so I can paste them later",
    ),
    (
        "paste_text",
        "Paste the clipboard contents at the cursor",
        "insert what I copied before right here",
    ),
    ("undo", "Undo the last edit", "revert my most recent change"),
    (
        "find_text",
        "Search for a word or phrase in the document",
        "locate where a term appears in this text",
    ),
    (
        "replace_text",
        "Find and replace text throughout the document",
        "swap every occurrence of one word for another",
    ),
    ("zoom_in", "Zoom in to make the content larger", "make everything on the page bigger"),
    (
        "screenshot",
        "Take a screenshot of the whole screen",
        "capture an image of what the display shows",
    ),
    ("volume_mute", "Mute the system sound", "silence the speakers"),
    (
        "switch_window",
        "Switch to another open application window with Alt+Tab",
        "bring a different program to the front",
    ),
    (
        "minimize_window",
        "Minimize the current window to the taskbar",
        "hide this program without quitting it",
    ),
    (
        "maximize_window",
        "Maximize the window to fill the screen",
        "make this program take up the entire display",
    ),
    (
        "select_all",
        "Select all text in the current field or document",
        "highlight everything in here",
    ),
    ("print_document", "Print the current document", "send this file to the printer"),
    ("rename_file", "Rename a file in the file manager", "give this file a different title"),
    ("delete_file", "Delete the selected file to the trash", "throw away the file I have selected"),
    (
        "create_folder",
        "Create a new folder in the current directory",
        "make a new directory here to hold things",
    ),
    ("bold_text", "Make the selected text bold", "put the highlighted words in heavy type"),
    ("scroll_down", "Scroll down the page", "move further down to see more content"),
    ("refresh_page", "Reload the current web page", "fetch this site again from the server"),
    (
        "go_back",
        "Navigate back to the previous page in the browser",
        "return to the site I was just looking at",
    ),
    (
        "bookmark_page",
        "Bookmark the current page",
        "keep a link to this website so I can come back",
    ),
    (
        "open_terminal",
        "Open a terminal window to type shell commands",
        "start a command line prompt",
    ),
    ("lock_screen", "Lock the computer screen", "secure the machine while I step away"),
    ("type_text", "Type text at the keyboard focus", "enter these words into the input box"),
    (
        "right_click_menu",
        "Right-click to open the context menu",
        "show the extra options for this item with the secondary mouse button",
    ),
    (
        "download_file",
        "Download a file from a link in the browser",
        "save the linked attachment from the website to my computer",
    ),
]


def paraphrase_recall(embedder: Embedder) -> tuple[float, float]:
    """Top-1 and top-3 hit rates of each paraphrase against all descriptions (exact search)."""
    docs = embedder.embed([description for _, description, _ in SKILL_PARAPHRASES])
    queries = embedder.embed([query for _, _, query in SKILL_PARAPHRASES])
    scores = np.asarray(queries) @ np.asarray(docs).T
    ranked = np.argsort(-scores, axis=1)
    truth = np.arange(len(SKILL_PARAPHRASES))
    top1 = float(np.mean(ranked[:, 0] == truth))
    top3 = float(np.mean([truth[i] in ranked[i, :3] for i in truth]))
    return top1, top3
