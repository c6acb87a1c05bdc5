"""The observer: a pure model of the virtual routers the wire shows."""
