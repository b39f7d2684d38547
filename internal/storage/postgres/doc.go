// Package postgres is the shared storage backend: several Arca nodes use one
// PostgreSQL database (replicated and backed up by PostgreSQL's own means), so
// any node can serve any request and none is a single point of failure.
//
// It implements the storage contract (package storage) with jackc/pgx:
//
//   - Records live in one table, arca_items (namespace, key, value, revision),
//     inside a PostgreSQL schema of their own (Options.Schema), created and
//     upgraded by the versioned SQL migrations embedded in the binary.
//   - Revisions come from a sequence, assigned inside each UPDATE (after the
//     row lock), so they grow on every write of a key and never repeat.
//   - Update transactions run READ COMMITTED after taking one transaction-
//     scoped advisory lock per schema: writers across all nodes take turns,
//     exactly as the embedded backend's single writer does, so a
//     read-modify-write made by the service (rotating a key, spending an
//     approval) can never interleave with another node's. Compare-and-swap on
//     revisions still guards records read in an earlier transaction.
//   - View transactions are REPEATABLE READ, READ ONLY: one consistent
//     snapshot, taking no lock.
//   - Every Update that wrote records sends their names with pg_notify on
//     commit; Watch (storage.Watcher) delivers them to every other node,
//     which drops what it cached of them (the writing node keeps its own
//     cache in step as it writes, as it does on embedded storage).
//   - An unreachable or unresponsive database fails operations within
//     Options.Timeout with storage.ErrUnavailable; the pool reconnects by
//     itself when the database is back.
//
// Leader elects one node for the background work that must happen once.
package postgres
