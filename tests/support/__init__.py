"""The test suite's own plugin (:mod:`tests.support.plugin`): paths, the fake clock, service
starters, the browser driver."""
