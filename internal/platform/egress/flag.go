package egress

import "github.com/spf13/pflag"

// FlagName is the flag (and, as GAFFER_EGRESS_ALLOW, the variable) that
// opens addresses to outbound requests.
const FlagName = "egress-allow"

// AddFlag adds --egress-allow, repeatable or comma-separated, to fs,
// parsed into dst.
func AddFlag(fs *pflag.FlagSet, dst *[]string) {
	fs.StringSliceVar(dst, FlagName, nil, "let outbound requests (webhooks, runbook http steps, certificate scans, ACME validation) "+
		"reach this CIDR range, address or host name (.domain for every name below it), optionally :port; "+
		"loopback, link-local, private and Gaffer's own addresses are refused otherwise (repeatable)")
}
