// Package spectator is Gaffer's Go client for recording dimensional
// metrics, in the manner of Netflix's Spectator: a Registry hands out
// meters identified by a name and tags, and each update is written as one
// line of spectatord's protocol
//
//	<type>[,<option>]:<name>[,<key>=<value>...]:<value>
//
// to a Writer (Gaffer's in-process spectatord aggregator, see
// internal/platform/selfmetrics). Characters outside [-._A-Za-z0-9^~]
// in names and tags are replaced with '_', as Spectator does, and common
// tags come from the environment (NETFLIX_PROCESS_NAME, TITUS_CONTAINER_NAME).
// Percentile timers and distribution summaries use Spectator's 276-bucket
// layout (BucketIndex), so percentiles agree with Atlas's :percentiles.
package spectator
