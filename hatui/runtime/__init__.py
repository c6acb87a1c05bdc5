"""asyncio runtimes that drive the pure layers with real sockets and timers."""
