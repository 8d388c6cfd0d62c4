// Package jobs is Gaffer's background work: River (riverqueue) on the same
// database as everything else — SQLite by default, PostgreSQL at scale —
// so a job can be enqueued in the same transaction as the state change that
// needs it, and any number of `gaffer worker` processes can share the work.
//
// Systems register job kinds with JSON arguments (Handle, or the typed
// HandleFunc), enqueue them (Enqueue, EnqueueTx), and declare periodic jobs
// (Every). Retries use exponential backoff; after the last attempt a job is
// discarded and shows in the dead list, from where it can be retried.
package jobs
