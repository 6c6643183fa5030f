"""The citizen's wallet: the sealed store, records, refresh, backup and the connections it
agrees to make; :class:`ssiwallet.wallet.wallet.Wallet` is what the CLI, the TUI and the
demo use.
"""

__all__ = ["backup", "net", "records", "refresh", "sealed", "store", "wallet"]
