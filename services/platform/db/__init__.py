"""Database helpers: column types, engines, migrations (built when asked, never at import)."""
