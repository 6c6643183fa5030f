"""The holder's wallet: sealed store, credentials, history, backups and the flows."""
