"""The console's modal screens: confirmation, priority input, help."""
