package main

// The systems compiled into the binary. Each registers its module (and its
// CLI commands) from init functions; adding a system means adding its
// import here.
import (
	_ "github.com/gaffer-sre/gaffer/alerting"
	_ "github.com/gaffer-sre/gaffer/analysis/changepoint"
	_ "github.com/gaffer-sre/gaffer/analysis/correlate"
	_ "github.com/gaffer-sre/gaffer/demand/failover"
	_ "github.com/gaffer-sre/gaffer/events"
	_ "github.com/gaffer-sre/gaffer/orchestration/genie"
	_ "github.com/gaffer-sre/gaffer/orchestration/notebook"
	_ "github.com/gaffer-sre/gaffer/orchestration/workflow"
	_ "github.com/gaffer-sre/gaffer/remediation"
	_ "github.com/gaffer-sre/gaffer/security/certs"
	_ "github.com/gaffer-sre/gaffer/security/sshca"
	_ "github.com/gaffer-sre/gaffer/telemetry/atlas"
	_ "github.com/gaffer-sre/gaffer/telemetry/metrics"
)
