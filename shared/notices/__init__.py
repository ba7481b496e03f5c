"""Notices (통지) to the petitioner: which are owed, in which channels, rendered from versioned templates."""
