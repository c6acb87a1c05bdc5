"""keepalived.conf and CLI flags to typed instance specs."""
