package remediation

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

// newAgentCommand is `gaffer agent`: it runs the host agent (package
// remediation/agent) and, in its subcommands, manages agents on a server.
func newAgentCommand() *cobra.Command {
	var actionsDir, tags, natsURL, natsCreds, hostname, requestKey string
	var maxRequestAge time.Duration
	cmd := &cobra.Command{
		Use:   "agent --server URL --token-file FILE --actions-dir DIR [--tags k=v,...]",
		Short: "The host agent (Bolt): runs the actions declared in --actions-dir when runbooks ask (SIGHUP re-reads them); also manages agents",
		Args:  cobra.NoArgs,
	}
	flags := cli.AddClientFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if actionsDir == "" {
			return fmt.Errorf("actions-dir: required")
		}
		tagMap, err := parseTags(tags)
		if err != nil {
			return err
		}
		c, err := flags.Client()
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
		abs, _ := filepath.Abs(actionsDir)
		a, err := agent.New(ctx, agent.Config{Server: c.Server, Token: c.Token, ActionsDir: abs, Tags: tagMap,
			NATSURL: natsURL, NATSCreds: natsCreds, Hostname: hostname, RequestKey: requestKey, MaxRequestAge: maxRequestAge, Log: log, TLS: c.TLS})
		if err != nil {
			return err
		}
		log.Info("agent running", "name", a.Name(), "actions", len(a.Facts().Actions))
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for range hup {
				if err := a.Reload(); err != nil {
					log.Error("reload actions", "error", err)
				}
			}
		}()
		return a.Run(ctx)
	}
	f := cmd.Flags()
	f.StringVar(&actionsDir, "actions-dir", "", "directory of declared actions (each a directory with action.yaml), and bundles.lock")
	f.StringVar(&tags, "tags", "", "host tags for target selection, e.g. role=web,az=eu-1a")
	f.StringVar(&natsURL, "nats-url", "", "NATS URLs to use instead of the ones the server advertises")
	f.StringVar(&natsCreds, "nats-creds", "", "NATS credentials file (for an external NATS cluster)")
	f.StringVar(&hostname, "hostname", "", "host name to report (default the system's)")
	f.StringVar(&requestKey, "request-key", "", "pin the server's request-signing key (ed25519:BASE64, from the bootstrap answer); "+
		"the agent does not start when the server gives another")
	f.DurationVar(&maxRequestAge, "max-request-age", agent.DefaultMaxRequestAge,
		"how far a signed request's issue time may lie from this host's clock, either way, before it is refused")
	cmd.AddCommand(agentTokenCommand(flags), agentListCommand(flags), agentRevokeCommand(flags), agentBundleCommand(flags))
	return cmd
}

// parseTags reads --tags: comma-separated KEY=VALUE pairs.
func parseTags(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("tags: %q: want KEY=VALUE", kv)
		}
		out[k] = v
	}
	return out, nil
}

func agentTokenCommand(flags *cli.ClientFlags) *cobra.Command {
	return &cobra.Command{Use: "enroll NAME", Aliases: []string{"token"},
		Short: "Enroll an agent: create its token (identity agent:NAME); the secret is printed once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var tok AgentToken
			if err := c.Do(cmd.Context(), "POST", "/api/v1/remediation/agents/"+url.PathEscape(args[0])+"/token", nil, &tok); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok.Secret)
			fmt.Fprintf(cmd.ErrOrStderr(), "enrolled agent %s: the token above is shown only once; store it in the file given to --token-file (mode 0600)\n", tok.Name)
			return nil
		}}
}

func agentListCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "list", Short: "List agents and their state", Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var page httpapi.Page[AgentInfo]
		if err := c.Do(cmd.Context(), "GET", "/api/v1/remediation/agents", nil, &page); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("AGENT", "STATE", "HOST", "TAGS", "ACTIONS", "LAST SEEN")
			for _, a := range page.Items {
				var tags, acts []string
				for k, v := range a.Tags {
					tags = append(tags, k+"="+v)
				}
				for _, x := range a.Actions {
					acts = append(acts, x.Name)
				}
				t.Row(a.Name, a.State, a.Hostname, strings.Join(tags, ","), strings.Join(acts, ","), a.LastSeen.Format("15:04:05"))
			}
		})
	}
	return cmd
}

func agentRevokeCommand(flags *cli.ClientFlags) *cobra.Command {
	return &cobra.Command{Use: "revoke NAME", Short: "Revoke an agent's tokens and disconnect it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", "/api/v1/remediation/agents/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked agent %s: its tokens no longer work and it is disconnected\n", args[0])
			return nil
		}}
}

func agentBundleCommand(flags *cli.ClientFlags) *cobra.Command {
	return &cobra.Command{Use: "bundle ACTION-DIR", Short: "Upload an action directory as a bundle; prints the line for an agent's bundles.lock",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			a, err := agent.LoadAction(args[0])
			if err != nil {
				return err
			}
			data, sum, err := agent.PackBundle(args[0])
			if err != nil {
				return err
			}
			var info BundleInfo
			if err := c.DoRaw(context.Background(), "PUT", "/api/v1/remediation/bundles/"+url.PathEscape(a.Name)+"/"+url.PathEscape(a.Version),
				"application/gzip", data, &info); err != nil {
				return err
			}
			if info.SHA256 != sum {
				return fmt.Errorf("the server stored checksum %s, not %s", info.SHA256, sum)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "uploaded bundle %s %s; add the line below to an agent's bundles.lock\n", a.Name, a.Version)
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s\n", a.Name, a.Version, sum)
			return nil
		}}
}
