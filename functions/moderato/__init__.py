"""Moderato: the domain package shared by every Lambda handler.

Everything under this package except ``moderato.adapters`` is pure Python (no boto3), so the
classification, routing and review rules are tested with plain values.
"""

__version__ = "0.1.0"
