"""The VRRP router state machine (RFC 3768, 5798, 9568), sans-IO."""
