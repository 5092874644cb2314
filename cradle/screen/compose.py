"""The one place an episode's screen wrappers are composed around its environment's screen.

Focus keeping is innermost: it guards the input that reaches the display. Dry-run is
outermost: it sends no input, so nothing is refocused during a dry run either.
"""

from __future__ import annotations

from collections.abc import Callable

from cradle.screen.base import Screen


def episode_screen(
    screen: Screen, *, keep_focus: Callable[[], object] | None = None, dry_run: bool = False
) -> Screen:
    """``screen`` as an episode (or a replay of one) acts on it: ``keep_focus`` (the
    environment's, if it keeps a window focused) runs before input; ``dry_run`` logs input
    instead of sending it."""
    if keep_focus is not None:
        from cradle.screen.focus import FocusKeepingScreen

        screen = FocusKeepingScreen(screen, keep_focus)
    if dry_run:
        from cradle.screen.dry_run import DryRunScreen

        screen = DryRunScreen(screen)
    return screen
