"""The compensation ledger: SQLAlchemy tables, written only by the compensation service."""
