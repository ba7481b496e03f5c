"""The console's accounts: officials, department heads, auditors and administrators of an agency,
their passwords (argon2) and their sessions."""
