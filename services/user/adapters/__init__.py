"""Adapters of the user service: PostgreSQL repository, argon2id hasher."""
