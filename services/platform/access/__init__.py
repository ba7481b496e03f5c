"""Access: the integrating agencies' API keys, shared by every HTTP service."""
