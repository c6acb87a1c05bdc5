"""The Textual console."""

import os

# Textual's screen update runs on a timer that, resumed after a pause, fires one to two
# periods later: at its default 60 a change waited up to 33 ms to reach the terminal.
# At 120 it waits at most 1/60 s, as 60 promises. Set before textual is first imported.
os.environ.setdefault("TEXTUAL_FPS", "120")
