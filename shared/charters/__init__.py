"""Charters (행정서비스헌장): each municipality's promises, as versioned data."""
from shared.charters.book import CharterBook, NoCharterInForce
from shared.charters.loader import CharterFileError, parse_charter
from shared.charters.model import Charter

__all__ = ["Charter", "CharterBook", "CharterFileError", "NoCharterInForce", "parse_charter"]
