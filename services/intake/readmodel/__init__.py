"""Read models: SQLAlchemy projections of the petition-event log."""
