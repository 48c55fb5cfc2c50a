"""Real-time runtime (trio)."""
