"""Pure protocol core: strict input, JOSE, did:key, SD-JWT (VC), status lists, DCQL, types.

Nothing here performs I/O: the clock, randomness and key lookups are parameters.
"""
