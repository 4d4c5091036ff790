"""Agora's user service: users, credentials (argon2id) and roles; see app.py."""
