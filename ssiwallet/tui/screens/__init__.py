"""The wallet's screens, one module each; every screen reaches the wallet through the app."""
