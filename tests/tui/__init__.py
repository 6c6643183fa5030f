"""Tests of the wallet's terminal interface: flows against real services, and snapshots."""
