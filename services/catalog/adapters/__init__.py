"""Adapters of the catalog service: PostgreSQL repository, tables, and the client of the
user service (``GrpcAccounts``)."""
