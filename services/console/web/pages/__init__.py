"""The console's pages, each a router built on the foundation (``services.console.web``)."""
