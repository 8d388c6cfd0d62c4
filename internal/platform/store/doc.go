// Package store is Gaffer's relational state: one database/sql layer over
// embedded SQLite (modernc.org/sqlite, WAL mode) and PostgreSQL (pgx), with
// per-system migrations embedded in each system's folder.
//
// Queries are written once with "?" placeholders; the store rewrites them to
// "$n" on PostgreSQL. Migrations are plain SQL files named NNN_name.sql, with
// optional NNN_name.sqlite.sql / NNN_name.postgres.sql variants where the two
// engines need different DDL, and a few macros ({{autoid}}, {{blob}},
// {{bigint}}) for the common differences.
package store
