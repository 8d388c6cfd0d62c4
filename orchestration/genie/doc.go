// Package genie is Gaffer's federated job execution: the seed's
// Orchestration team's Genie, which Netflix open-sourced. Administrators
// register applications, commands and clusters with tags; users submit
// jobs — a Spark or Presto query, a script — naming the kind of command
// and cluster they need by tags, and Genie resolves one command and one
// cluster (package resolve, as Genie 4 does), runs the job in its own
// working directory with the applications', cluster's and command's
// dependencies staged, and keeps its status, output and archive.
//
// The REST API is Genie's v3 (/api/v3/applications, /commands,
// /clusters, /jobs: paths, JSON shapes and statuses), so Genie's clients
// work against it; `gaffer genie` is Gaffer's client, and the workflow
// system runs Genie jobs as steps of type "genie".
//
// Anchors: Genie 3 and 4 (its API, resolution and job statuses) and its
// Python client, pygenie. The user guide is docs/genie.md; bench/genie
// holds the submission load test and docs/benchmarks.md its figures.
package genie
