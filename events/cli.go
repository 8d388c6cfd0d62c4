package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// newEventsCommand is `gaffer events`, the event platform's client; the
// module registers it through its Commands.
func newEventsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "The event platform: list (the default), publish and tail events; rules; dead letters (see docs/events.md)"}
	flags := cli.AddClientFlags(cmd)
	list := eventsListCommand(flags)
	cmd.AddCommand(eventsPublishCommand(flags), list, eventsTailCommand(flags),
		eventsRulesCommand(flags), eventsReplayCommand(flags), eventsDeadLettersCommand(flags))
	cli.ListByDefault(cmd, list)
	return cmd
}

// defaultSource is the source of events published from the command line:
// /cli/USER, or /cli when the user is unknown.
func defaultSource() string {
	if u, err := user.Current(); err == nil {
		return "/cli/" + u.Username
	}
	return "/cli"
}

func eventsPublishCommand(flags *cli.ClientFlags) *cobra.Command {
	var file, typ, source, subject, id, data string
	cmd := &cobra.Command{
		Use:   "publish (--type TYPE [--data JSON] | -f FILE)",
		Short: "Publish an event, or the CloudEvents in a file (one event, or a JSON array for a batch)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var body []byte
			contentType := "application/cloudevents+json"
			switch {
			case file != "":
				if body, err = cli.ReadInput(cmd, file); err != nil {
					return err
				}
				if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
					contentType = "application/cloudevents-batch+json"
				}
			case typ != "":
				ev := &bus.Event{SpecVersion: "1.0", ID: id, Source: source, Type: typ, Subject: subject, Time: time.Now().UTC()}
				if ev.ID == "" {
					ev.ID = bus.NewEventID()
				}
				if data != "" {
					if !json.Valid([]byte(data)) {
						return fmt.Errorf("data: not valid JSON: %s", data)
					}
					ev.Data, ev.DataContentType = json.RawMessage(data), "application/json"
				}
				if body, err = ev.MarshalJSON(); err != nil {
					return err
				}
			default:
				return fmt.Errorf("give --type (and --data) or -f FILE")
			}
			var res IngestResult
			if err := c.DoRaw(cmd.Context(), "POST", "/api/v1/events", contentType, body, &res); err != nil {
				return err
			}
			for _, ev := range res.Events {
				note := ""
				if ev.Duplicate {
					note = " (duplicate: already stored)"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "published event %s, seq %d%s\n", ev.ID, ev.Seq, note)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "file of CloudEvents JSON (- for standard input)")
	f.StringVar(&typ, "type", "", "event type, e.g. gaffer.deploy.finished")
	f.StringVar(&source, "source", defaultSource(), "event source")
	f.StringVar(&subject, "subject", "", "event subject")
	f.StringVar(&id, "id", "", "event ID (default random)")
	f.StringVar(&data, "data", "", "event data, as JSON")
	return cmd
}

// filterQuery builds the query of list and tail requests.
type filterQuery struct {
	typ, source, filter, since, until string
}

func (q *filterQuery) add(cmd *cobra.Command, times bool) {
	f := cmd.Flags()
	f.StringVar(&q.typ, "type", "", "event type; a trailing * matches a prefix")
	f.StringVar(&q.source, "source", "", "event source; a trailing * matches a prefix")
	f.StringVar(&q.filter, "filter", "", "CEL condition, e.g. 'data.severity == \"critical\"'")
	if times {
		f.StringVar(&q.since, "since", "", "RFC 3339 time or a duration ago (1h)")
		f.StringVar(&q.until, "until", "", "RFC 3339 time or a duration ago")
	}
}

func (q *filterQuery) values() url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"type": q.typ, "source": q.source, "filter": q.filter, "since": q.since, "until": q.until} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// eventLine is one event in table output.
func eventLine(raw []byte) []any {
	ev, err := bus.ParseEvent(raw)
	if err != nil {
		return []any{"?", "?", "?", "?", string(raw)}
	}
	data := string(ev.Data)
	if len(data) > 80 {
		data = data[:80] + "…"
	}
	return []any{ev.Time.UTC().Format(time.RFC3339), ev.Type, ev.Source, ev.ID, data}
}

func eventsListCommand(flags *cli.ClientFlags) *cobra.Command {
	var q filterQuery
	var limit int
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List stored events, newest first",
		Args:  cobra.NoArgs,
	}
	out := cli.AddOutputFlag(cmd)
	q.add(cmd, true)
	cmd.Flags().IntVar(&limit, "limit", 50, "events per page")
	cmd.Flags().BoolVar(&all, "all", false, "follow next_cursor to the end")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		v := q.values()
		v.Set("limit", fmt.Sprint(limit))
		var items []StoredEvent
		for {
			var page EventList
			if err := c.Do(cmd.Context(), "GET", "/api/v1/events?"+v.Encode(), nil, &page); err != nil {
				return err
			}
			items = append(items, page.Items...)
			if page.ScanLimited && !all {
				fmt.Fprintf(cmd.ErrOrStderr(), "the filter scanned %d events without filling the page; --all continues\n", page.Scanned)
			}
			if !all || page.NextCursor == "" {
				break
			}
			v.Set("cursor", page.NextCursor)
		}
		return out.Print(cmd.OutOrStdout(), items, func(t *cli.Table) {
			t.Row("SEQ", "TIME", "TYPE", "SOURCE", "ID", "DATA")
			for _, it := range items {
				t.Row(append([]any{it.Seq}, eventLine(it.Event)...)...)
			}
		})
	}
	return cmd
}

func eventsTailCommand(flags *cli.ClientFlags) *cobra.Command {
	var q filterQuery
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print new events as they arrive, until interrupted",
		Args:  cobra.NoArgs,
	}
	out := cli.AddOutputFlag(cmd)
	q.add(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := out.Validate(); err != nil {
			return err
		}
		c, err := flags.Client()
		if err != nil {
			return err
		}
		body, err := c.Stream(cmd.Context(), "/api/v1/events/stream?"+q.values().Encode())
		if err != nil {
			return err
		}
		defer body.Close()
		return printTail(cmd.Context(), body, cmd.OutOrStdout(), cmd.ErrOrStderr(), out.JSON())
	}
	return cmd
}

// printTail prints the server-sent events of a tail: a line per event.
func printTail(ctx context.Context, body io.Reader, w, errw io.Writer, asJSON bool) error {
	err := cli.ReadEvents(body, func(event, data string) bool {
		switch {
		case event == "dropped":
			fmt.Fprintf(errw, "fell behind; events not shown: %s\n", data)
		case asJSON:
			fmt.Fprintln(w, data)
		default:
			fmt.Fprintln(w, eventLine([]byte(data))...)
		}
		return true
	})
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tail: %w", err)
	}
	return fmt.Errorf("tail: the server closed the stream")
}

func eventsRulesCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "List (the default), show, create, update, delete, enable and disable rules"}
	list := &cobra.Command{Use: "list", Short: "List rules", Args: cobra.NoArgs}
	out := cli.AddOutputFlag(list)
	list.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var page httpapi.Page[Rule]
		if err := c.Do(cmd.Context(), "GET", "/api/v1/events/rules", nil, &page); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("ID", "NAME", "ENABLED", "MATCHED", "ACTIONS", "CONDITION")
			for _, r := range page.Items {
				var matched int64
				if r.Stats != nil {
					matched = r.Stats.Matched
				}
				var types []string
				for _, a := range r.Actions {
					types = append(types, a.Type)
				}
				t.Row(r.ID, r.Name, r.Enabled, matched, strings.Join(types, ","), r.Condition)
			}
		})
	}
	// ruleCall calls path (%s: the rule's ID or name) and, for a change
	// (done not empty), confirms it in one line.
	ruleCall := func(method, path, done string) func(cmd *cobra.Command, args []string) error {
		return func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			var r Rule
			id, err := resolveRule(cmd, c, args[0])
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), method, fmt.Sprintf(path, url.PathEscape(id)), nil, &r); err != nil {
				return err
			}
			if done == "" {
				return printJSON(cmd.OutOrStdout(), r)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s rule %s\n", done, cli.Ref{ID: r.ID, Name: r.Name})
			return nil
		}
	}
	get := &cobra.Command{Use: "get ID|NAME", Short: "Show a rule as JSON", Args: cobra.ExactArgs(1),
		RunE: ruleCall("GET", "/api/v1/events/rules/%s", "")}
	enable := &cobra.Command{Use: "enable ID|NAME", Short: "Enable a rule", Args: cobra.ExactArgs(1),
		RunE: ruleCall("POST", "/api/v1/events/rules/%s/enable", "enabled")}
	disable := &cobra.Command{Use: "disable ID|NAME", Short: "Disable a rule", Args: cobra.ExactArgs(1),
		RunE: ruleCall("POST", "/api/v1/events/rules/%s/disable", "disabled")}
	del := &cobra.Command{Use: "delete ID|NAME", Short: "Delete a rule", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			// The rule is read first so that the confirmation names it.
			var r Rule
			id, err := resolveRule(cmd, c, args[0])
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "GET", "/api/v1/events/rules/"+url.PathEscape(id), nil, &r); err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", "/api/v1/events/rules/"+url.PathEscape(r.ID), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted rule %s\n", cli.Ref{ID: r.ID, Name: r.Name})
			return nil
		}}
	cmd.AddCommand(list, get, ruleFileCommand(flags, "create", "POST"), ruleFileCommand(flags, "update", "PUT"),
		del, enable, disable)
	cli.ListByDefault(cmd, list)
	return cmd
}

// resolveRule names the rule ref refers to: an ID or a name (which the
// API takes as they are), or a unique prefix of a rule's ID.
func resolveRule(cmd *cobra.Command, c *cli.Client, ref string) (string, error) {
	r, err := cli.ResolveRecent(cmd.Context(), c, "rule", ref, "/api/v1/events/rules",
		func(r Rule) cli.Ref { return cli.Ref{ID: r.ID, Name: r.Name} })
	return r.ID, err
}

// ruleFileCommand creates or updates a rule from a JSON file.
func ruleFileCommand(flags *cli.ClientFlags, verb, method string) *cobra.Command {
	var file string
	out := &cli.OutputFlag{}
	use, args := "create -f FILE", cobra.NoArgs
	if verb == "update" {
		use, args = "update ID|NAME -f FILE", cobra.ExactArgs(1)
	}
	cmd := &cobra.Command{Use: use, Short: strings.ToUpper(verb[:1]) + verb[1:] + " a rule from a JSON file " +
		`({"name", "condition", "actions": [...]}; - for standard input)`, Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.Validate(); err != nil {
				return err
			}
			c, err := flags.Client()
			if err != nil {
				return err
			}
			b, err := cli.ReadInput(cmd, file)
			if err != nil {
				return err
			}
			var spec json.RawMessage
			if err := json.Unmarshal(b, &spec); err != nil {
				return fmt.Errorf("%s: not JSON: %w", file, err)
			}
			path := "/api/v1/events/rules"
			if len(args) == 1 {
				id, err := resolveRule(cmd, c, args[0])
				if err != nil {
					return err
				}
				path += "/" + url.PathEscape(id)
			}
			var r Rule
			if err := c.Do(cmd.Context(), method, path, spec, &r); err != nil {
				return err
			}
			if out.JSON() {
				return printJSON(cmd.OutOrStdout(), r)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%sd rule %s, %s\n", verb, cli.Ref{ID: r.ID, Name: r.Name}, r.Index)
			return nil
		}}
	cmd.Flags().StringVarP(&out.Format, "output", "o", "table", "output format: table (a confirmation line) or json (the rule)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "rule JSON file (- for standard input)")
	cmd.MarkFlagRequired("file")
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func eventsReplayCommand(flags *cli.ClientFlags) *cobra.Command {
	var req ReplayRequest
	cmd := &cobra.Command{
		Use:   "replay ID|NAME",
		Short: "Dry run: what a rule would have matched and done over a past time range (nothing is acted on)",
		Args:  cobra.ExactArgs(1),
	}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringVar(&req.Since, "since", "1h", "start: RFC 3339 or a duration ago")
	cmd.Flags().StringVar(&req.Until, "until", "", "end: RFC 3339 or a duration ago (default now)")
	cmd.Flags().IntVar(&req.MaxEvents, "max-events", 0, "most events to read (default 100000)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		id, err := resolveRule(cmd, c, args[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "replaying %s since %s…\n", args[0], req.Since)
		var res ReplayResult
		if err := c.Do(cmd.Context(), "POST", "/api/v1/events/rules/"+url.PathEscape(id)+"/replay", req, &res); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), res, func(t *cli.Table) {
			truncated := ""
			if res.Truncated {
				truncated = " (stopped early)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d of %d events matched from %s to %s%s in %s; nothing was acted on\n",
				res.Rule, res.Matched, res.Scanned, res.Since.Format(time.RFC3339), res.Until.Format(time.RFC3339), truncated, res.Elapsed)
			t.Row("SEQ", "TIME", "TYPE", "SOURCE", "ID", "ACTIONS")
			for _, m := range res.Matches {
				line := eventLine(m.Event)
				var outcomes []string
				for _, a := range m.Actions {
					outcomes = append(outcomes, a.Type+": "+a.Outcome)
				}
				t.Row(m.Seq, line[0], line[1], line[2], line[3], strings.Join(outcomes, "; "))
			}
		})
	}
	return cmd
}

func eventsDeadLettersCommand(flags *cli.ClientFlags) *cobra.Command {
	var status, rule string
	cmd := &cobra.Command{Use: "deadletters", Short: "List dead letters (actions that failed for good); redrive them",
		Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringVar(&status, "status", "dead", "dead, redriving, delivered or all")
	cmd.Flags().StringVar(&rule, "rule", "", "only this rule's (ID)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		v := url.Values{"status": {status}, "limit": {"500"}}
		if rule != "" {
			v.Set("rule", rule)
		}
		var page httpapi.Page[DeadLetter]
		if err := c.Do(cmd.Context(), "GET", "/api/v1/events/deadletters?"+v.Encode(), nil, &page); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), page.Items, func(t *cli.Table) {
			t.Row("ID", "FAILED", "RULE", "ACTION", "EVENT", "ATTEMPTS", "STATUS", "ERROR")
			for _, d := range page.Items {
				target := d.Action.URL + d.Action.EventType + d.Action.Kind
				errText := d.Error
				if len(errText) > 60 {
					errText = errText[:60] + "…"
				}
				t.Row(d.ID, d.CreatedAt.Format(time.RFC3339), d.RuleName, d.Action.Type+" "+target,
					d.EventType+" "+d.EventID, d.Attempts, d.Status, errText)
			}
		})
	}
	redrive := &cobra.Command{Use: "redrive ID...", Short: "Run dead-lettered actions again", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := flags.Client()
			if err != nil {
				return err
			}
			for _, id := range args {
				var d DeadLetter
				if err := c.Do(cmd.Context(), "POST", "/api/v1/events/deadletters/"+url.PathEscape(id)+"/redrive", nil, &d); err != nil {
					return fmt.Errorf("dead letter %s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "redrove dead letter %d (%s), now %s\n", d.ID, d.RuleName, d.Status)
			}
			return nil
		}}
	cmd.AddCommand(redrive)
	return cmd
}
