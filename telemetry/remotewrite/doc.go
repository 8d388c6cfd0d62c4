// Package remotewrite forwards the samples a store accepts to Prometheus
// remote-write 1.0 receivers (Mimir, VictoriaMetrics, Thanos Receive,
// Prometheus itself): Tee hands each committed batch to a Sink, a Queue
// per receiver keeps it on disk until the receiver acknowledges it, and a
// Sender reads the queue and sends it, sharded by series and retried with
// backoff. The metrics system wires it to --metrics-remote-write; see
// docs/metrics.md, "At scale".
package remotewrite
