"""Root pytest configuration: loads Agora's async test kit fixtures."""

pytest_plugins = ["pkg.testing.plugin"]
