"""The test suite's own plugin: paths, the fake clock, service starters, the browser driver."""
