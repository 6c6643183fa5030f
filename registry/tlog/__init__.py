"""The transparency log, pure: RFC 6962 Merkle trees and proofs, C2SP signed notes,
checkpoints and witness cosignatures.
"""

__all__ = ["checkpoint", "merkle", "note", "statemap", "tree"]
