-- Runs once, when the postgres volume is initialised (docker-entrypoint-initdb.d).
-- One database per service that owns data (docs/architecture.md: agora_<name>).
CREATE DATABASE agora_user;
