"""What the user sees and runs: script actions, the status view, the login dialog and its QR code."""
