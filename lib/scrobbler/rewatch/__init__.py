"""Rewatches: the rules and per-show sessions, and the context-menu Rewatch action."""
