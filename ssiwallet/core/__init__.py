"""Pure protocol core: strict input, JOSE, did:key, SD-JWT (VC), status lists, DCQL, types.

Nothing here performs I/O: the clock, randomness and key lookups are parameters.
"""

__all__ = ["b64", "claimpath", "credtype_schemas", "credtypes", "dcql", "dcql_match", "didkey",
           "jws", "keys", "oid4vci", "oid4vp", "receipt", "sdjwt", "statuslist", "strictjson",
           "values", "vc"]
