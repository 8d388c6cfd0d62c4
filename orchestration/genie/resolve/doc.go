// Package resolve is Genie's resource model and job resolution: the
// applications, commands and clusters a Genie installation registers, and
// the choice, for a job, of one command and one cluster to run it on, as
// Genie 4 makes it.
//
// Resolution has four steps. The job's command criterion selects the
// candidate commands (status ACTIVE unless the criterion names one). For
// each candidate, every one of the command's cluster criteria, in order,
// is merged with every one of the job's cluster criteria, in order (tags
// are united; an id, name, version or status given by both must agree,
// or the pair is skipped); the first merged criterion that matches any
// cluster (status UP unless named) gives the command's clusters, and a
// command with none is dropped. A command selector picks one command
// among those left, then a cluster selector — the load balancer — picks
// one of its clusters: at random by default, or by a CEL expression
// under the platform's evaluation budget that falls back to random when
// it returns null.
//
// An Index holds a snapshot of the resources with posting lists per tag,
// name, version and status, so a resolution touches only the resources
// its criteria name. Explain reports, for each command and cluster a
// criterion came near, why it was kept or dropped.
package resolve
