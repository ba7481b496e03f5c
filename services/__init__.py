"""CharterWatch services: thin adapters (HTTP, Kafka, SQL, SMTP) around ``shared``."""
