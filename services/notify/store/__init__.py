"""Notify's tables: the facts it folds per case, every delivery attempt's record, the homepage inbox."""
