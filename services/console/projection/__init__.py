"""The console's projection of the log: its read model (``orm``), the handler that fills it
(``handler``) and the consumer that runs it (``runner``)."""
