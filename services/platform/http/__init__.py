"""HTTP helpers every API shares: problem+json, the body limit, keyset paging."""
