"""The Textual console."""

import os

# Textual's screen update runs on a timer that, resumed after a pause, fires one to two
# periods later, so a change waits up to two periods to reach the terminal: at 120 that
# is at most 1/60 s, what Textual's default of 60 means to promise. Set before textual is
# first imported.
os.environ.setdefault("TEXTUAL_FPS", "120")
