"""``make demo``: the whole system on loopback, governed and used as in real life."""
