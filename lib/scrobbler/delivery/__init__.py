"""Getting watches to Simkl exactly once: the outbox queue, its sender, live scrobbling, the holds."""
