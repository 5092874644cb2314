"""A terminal program that shows typed keys ``DELAY`` seconds late: an app slow to repaint.

Run inside xterm: ``xterm -e python late_echo.py 0.08``. The terminal is put in raw mode (no
echo by the kernel); each burst of keys is written back once, ``DELAY`` seconds after its
first key arrived, so text typed in one go appears all at once, late. That is what a busy
machine does to a real terminal, made repeatable.
"""

from __future__ import annotations

import os
import select
import sys
import time
import tty


def main() -> None:
    delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.08
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    tty.setraw(stdin)
    while True:
        burst = os.read(stdin, 4096)
        if not burst:
            return
        time.sleep(delay)
        while select.select([stdin], [], [], 0)[0]:
            more = os.read(stdin, 4096)
            if not more:
                break
            burst += more
        os.write(stdout, burst.replace(b"\r", b"\r\n"))


if __name__ == "__main__":
    main()
