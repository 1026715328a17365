"""End-to-end tests: the add-on inside a real headless Kodi (run with `pytest -m e2e tests/e2e`)."""
