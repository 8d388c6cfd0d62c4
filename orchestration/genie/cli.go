package genie

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
	"github.com/gaffer-sre/gaffer/orchestration/genie/resolve"
)

// newGenieCommand is `gaffer genie`, the system's client.
func newGenieCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "genie", Short: "Genie jobs, clusters, commands and applications (see docs/genie.md)"}
	flags := cli.AddClientFlags(cmd)
	job := &cobra.Command{Use: "job", Short: "Genie jobs: submit, list, status, output, kill"}
	list := jobListCommand(flags)
	job.AddCommand(jobSubmitCommand(flags), list, jobStatusCommand(flags), jobOutputCommand(flags), jobKillCommand(flags))
	cli.ListByDefault(job, list)
	cmd.AddCommand(job, applyCommand(flags), agentExecCommand(),
		resourceListCommand(flags, kindCluster, "List clusters with their status and tags"),
		resourceListCommand(flags, kindCommand, "List commands with their status, tags and cluster criteria"),
		resourceListCommand(flags, kindApplication, "List applications with their status and tags"))
	return cmd
}

// criterionTags reads a --*-tags flag: tags separated by commas, or a
// criterion in Genie's agent syntax (ID=i/NAME=n/TAGS=t1,t2), whose id
// and name become Genie's genie.id: and genie.name: tags, the only
// criteria the v3 API carries.
func criterionTags(flag, s string) ([]string, error) {
	c, err := resolve.ParseCriterion(s)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	if c.Version != "" || c.Status != "" {
		return nil, fmt.Errorf("--%s: VERSION and STATUS cannot be sent through Genie's v3 API; use tags, ID or NAME", flag)
	}
	tags := c.Tags
	if c.ID != "" {
		tags = append(tags, "genie.id:"+c.ID)
	}
	if c.Name != "" {
		tags = append(tags, "genie.name:"+c.Name)
	}
	return tags, nil
}

func jobSubmitCommand(flags *cli.ClientFlags) *cobra.Command {
	var cmdTags, name, user, version string
	var clusterTags []string
	var timeout int
	var wait bool
	var attach []string
	cmd := &cobra.Command{Use: "submit --command-tags TAGS --cluster-tags TAGS [--cluster-tags TAGS ...] [--name N] [--wait] -- ARGS...",
		Short: "Submit a job: the command its tags select runs with ARGS on a cluster the tags select; prints its id",
		Args:  cobra.ArbitraryArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringVar(&cmdTags, "command-tags", "", "tags of the command to run, comma-separated, or ID=i/NAME=n/TAGS=t1,t2 (required)")
	cmd.Flags().StringArrayVar(&clusterTags, "cluster-tags", nil, "tags of the cluster to run on, as --command-tags; repeat for fallbacks in order (required)")
	cmd.Flags().StringVar(&name, "name", "gaffer-cli", "the job's name")
	cmd.Flags().StringVar(&user, "user", "", "the job's user (default: $USER)")
	cmd.Flags().StringVar(&version, "version", "1", "the job's version")
	cmd.Flags().IntVar(&timeout, "timeout", 0, "kill the job after this many seconds (default: the server's)")
	cmd.Flags().StringArrayVar(&attach, "attach", nil, "a file to send with the job, placed in its directory (a script, a query); repeatable")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the job to end, print its stdout, and exit 0 only if it SUCCEEDED")
	cmd.MarkFlagRequired("command-tags")
	cmd.MarkFlagRequired("cluster-tags")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		if user == "" {
			user = os.Getenv("USER")
		}
		if user == "" {
			user = "gaffer-cli"
		}
		cmdCrit, err := criterionTags("command-tags", cmdTags)
		if err != nil {
			return err
		}
		req := JobRequest{Common: Common{ID: newID(), Name: name, User: user, Version: version}, CommandArgs: args, CommandCriteria: cmdCrit}
		for _, ct := range clusterTags {
			tags, err := criterionTags("cluster-tags", ct)
			if err != nil {
				return err
			}
			req.ClusterCriterias = append(req.ClusterCriterias, ClusterCriteria{Tags: tags})
		}
		if timeout > 0 {
			req.Timeout = &timeout
		}
		if len(attach) == 0 {
			if err := c.Do(cmd.Context(), "POST", jobsPath, req, nil); err != nil {
				return err
			}
		} else {
			ct, body, err := multipartRequest(req, attach)
			if err != nil {
				return err
			}
			if err := c.DoRaw(cmd.Context(), "POST", jobsPath, ct, body, nil); err != nil {
				return err
			}
		}
		var j Job
		if err := c.Do(cmd.Context(), "GET", jobsPath+"/"+req.ID, nil, &j); err != nil {
			return err
		}
		if !wait {
			return out.Print(cmd.OutOrStdout(), j, func(t *cli.Table) {
				t.Row(fmt.Sprintf("submitted job %s: command %s on cluster %s", j.ID, j.CommandName, j.ClusterName))
			})
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "submitted job %s: command %s on cluster %s\n", j.ID, j.CommandName, j.ClusterName)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for isActive(j.Status) {
			select {
			case <-cmd.Context().Done():
				return cmd.Context().Err()
			case <-tick.C:
			}
			if err := c.Do(cmd.Context(), "GET", jobsPath+"/"+req.ID, nil, &j); err != nil {
				return err
			}
		}
		body, _, err := c.Get(cmd.Context(), jobsPath+"/"+req.ID+"/output/stdout")
		if err != nil {
			return err
		}
		if out.JSON() {
			if err := out.Print(cmd.OutOrStdout(), j, nil); err != nil {
				return err
			}
		} else {
			cmd.OutOrStdout().Write(body)
		}
		if j.Status != "SUCCEEDED" {
			return fmt.Errorf("job %s ended %s: %s", j.ID, j.Status, j.StatusMsg)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "finished job %s: %s in %s\n", j.ID, j.Status, j.Runtime)
		return nil
	}
	return cmd
}

// multipartRequest encodes a job request with attachments as Genie's
// clients send it: a "request" part and one "attachment" part a file.
func multipartRequest(req JobRequest, files []string) (string, []byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="request"`)
	h.Set("Content-Type", "application/json")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return "", nil, err
	}
	if err := json.NewEncoder(pw).Encode(req); err != nil {
		return "", nil, err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", nil, fmt.Errorf("--attach: %w", err)
		}
		fw, err := mw.CreateFormFile("attachment", filepath.Base(f))
		if err != nil {
			return "", nil, err
		}
		fw.Write(data)
	}
	if err := mw.Close(); err != nil {
		return "", nil, err
	}
	return mw.FormDataContentType(), buf.Bytes(), nil
}

func jobListCommand(flags *cli.ClientFlags) *cobra.Command {
	var status []string
	var user, cluster, command string
	var size int
	cmd := &cobra.Command{Use: "list [--status S] [--user U] [--cluster NAME] [--command NAME]", Short: "List jobs, newest first",
		Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringArrayVar(&status, "status", nil, "only jobs in this status; repeatable")
	cmd.Flags().StringVar(&user, "user", "", "only this user's jobs")
	cmd.Flags().StringVar(&cluster, "cluster", "", "only jobs on this cluster (name)")
	cmd.Flags().StringVar(&command, "command", "", "only jobs of this command (name)")
	cmd.Flags().IntVar(&size, "limit", 50, "at most this many")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		q := url.Values{"size": {fmt.Sprint(size)}}
		for _, s := range status {
			q.Add("status", strings.ToUpper(s))
		}
		for k, v := range map[string]string{"user": user, "clusterName": cluster, "commandName": command} {
			if v != "" {
				q.Set(k, v)
			}
		}
		var page struct {
			Embedded struct {
				Jobs []JobSearchResult `json:"jobSearchResultList"`
			} `json:"_embedded"`
		}
		if err := c.Do(cmd.Context(), "GET", jobsPath+"?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		jobs := page.Embedded.Jobs
		return out.Print(cmd.OutOrStdout(), jobs, func(t *cli.Table) {
			t.Row("ID", "NAME", "USER", "STATUS", "COMMAND", "CLUSTER", "RUNTIME")
			for _, j := range jobs {
				t.Row(j.ID, j.Name, j.User, j.Status, j.CommandName, j.ClusterName, j.Runtime)
			}
		})
	}
	return cmd
}

func jobStatusCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "status JOB_ID", Short: "Show a job's status, with its message, command, cluster and exit code",
		Args: cobra.ExactArgs(1)}
	out := cli.AddOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		var j Job
		if err := c.Do(cmd.Context(), "GET", jobsPath+"/"+url.PathEscape(args[0]), nil, &j); err != nil {
			return err
		}
		var e JobExecution
		if err := c.Do(cmd.Context(), "GET", jobsPath+"/"+url.PathEscape(args[0])+"/execution", nil, &e); err != nil {
			return err
		}
		return out.Print(cmd.OutOrStdout(), map[string]any{"job": j, "execution": e}, func(t *cli.Table) {
			exit := "-"
			if e.ExitCode != nil {
				exit = fmt.Sprint(*e.ExitCode)
			}
			t.Row(j.ID, j.Status, j.StatusMsg)
			t.Row("command", j.CommandName, "cluster", j.ClusterName, "exit code", exit, "runtime", j.Runtime)
		})
	}
	return cmd
}

func jobOutputCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "output JOB_ID [PATH]",
		Short: "Print a file of a job's directory (stdout unless PATH names another; a directory is listed)", Args: cobra.RangeArgs(1, 2)}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		p := "stdout"
		if len(args) == 2 {
			p = strings.TrimPrefix(args[1], "/")
		}
		body, ct, err := c.Get(cmd.Context(), jobsPath+"/"+url.PathEscape(args[0])+"/output/"+p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(ct, "application/json") && (p == "" || strings.HasSuffix(p, "/") || json.Valid(body)) {
			var dir Directory
			if json.Unmarshal(body, &dir) == nil && (dir.Files != nil || dir.Directories != nil) {
				for _, d := range dir.Directories {
					fmt.Fprintf(cmd.OutOrStdout(), "%s\n", d.Name)
				}
				for _, f := range dir.Files {
					fmt.Fprintf(cmd.OutOrStdout(), "%s\t%d\n", f.Name, f.Size)
				}
				return nil
			}
		}
		_, err = cmd.OutOrStdout().Write(body)
		return err
	}
	return cmd
}

func jobKillCommand(flags *cli.ClientFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "kill JOB_ID", Short: "Kill a job (its processes get SIGTERM, then SIGKILL)", Args: cobra.ExactArgs(1)}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		path := jobsPath + "/" + url.PathEscape(args[0])
		var before Job
		if err := c.Do(cmd.Context(), "GET", path, nil, &before); err != nil {
			return err
		}
		if err := c.Do(cmd.Context(), "DELETE", path, nil, nil); err != nil {
			return err
		}
		var after Job
		if err := c.Do(cmd.Context(), "GET", path, nil, &after); err != nil {
			return err
		}
		switch {
		case before.Status != "" && !isActive(before.Status):
			fmt.Fprintf(cmd.OutOrStdout(), "skipped job %s: it had already ended %s\n", after.ID, after.Status)
		case !isActive(after.Status):
			fmt.Fprintf(cmd.OutOrStdout(), "killed job %s (%s)\n", after.ID, after.Status)
		default:
			fmt.Fprintf(cmd.OutOrStdout(), "signalled job %s to stop; it was %s\n", after.ID, before.Status)
		}
		return nil
	}
	return cmd
}

func isActive(status string) bool {
	switch status {
	case "ACCEPTED", "RESOLVED", "CLAIMED", "INIT", "RUNNING":
		return true
	}
	return false
}

func resourceListCommand(flags *cli.ClientFlags, kind, short string) *cobra.Command {
	var status []string
	var tags []string
	cmd := &cobra.Command{Use: kind + " [--status S] [--tag T]", Short: short, Args: cobra.NoArgs}
	out := cli.AddOutputFlag(cmd)
	cmd.Flags().StringArrayVar(&status, "status", nil, "only this status; repeatable")
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "only those carrying this tag; repeatable")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		q := url.Values{"size": {"1000"}}
		for _, s := range status {
			q.Add("status", strings.ToUpper(s))
		}
		for _, t := range tags {
			q.Add("tag", t)
		}
		var page struct {
			Embedded map[string][]json.RawMessage `json:"_embedded"`
		}
		if err := c.Do(cmd.Context(), "GET", apiRoot+"/"+kind+"?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		raw := page.Embedded[fmtKind(kind)+"List"]
		items := make([]map[string]any, 0, len(raw))
		for _, r := range raw {
			var m map[string]any
			if err := json.Unmarshal(r, &m); err != nil {
				return err
			}
			delete(m, "_links")
			items = append(items, m)
		}
		return out.Print(cmd.OutOrStdout(), items, func(t *cli.Table) {
			head := []any{"ID", "NAME", "VERSION", "STATUS", "TAGS"}
			if kind == kindCommand {
				head = append(head, "EXECUTABLE", "CLUSTER CRITERIA")
			}
			t.Row(head...)
			for _, m := range items {
				row := []any{m["id"], m["name"], m["version"], m["status"], joinAny(m["tags"], ",")}
				if kind == kindCommand {
					var crit []string
					if list, ok := m["clusterCriteria"].([]any); ok {
						for _, c := range list {
							b, _ := json.Marshal(c)
							var cr struct {
								Tags []string `json:"tags"`
							}
							json.Unmarshal(b, &cr)
							crit = append(crit, "["+strings.Join(cr.Tags, ",")+"]")
						}
					}
					row = append(row, m["executable"], strings.Join(crit, " "))
				}
				t.Row(row...)
			}
		})
	}
	return cmd
}

func joinAny(v any, sep string) string {
	list, _ := v.([]any)
	parts := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok && !strings.HasPrefix(s, "genie.id:") && !strings.HasPrefix(s, "genie.name:") {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, sep)
}

// applyFile is what `gaffer genie apply` reads: resources in Genie's
// v3 shapes; a command may name its applications.
type applyFile struct {
	Applications []Application `json:"applications"`
	Commands     []struct {
		Command
		Applications []string `json:"applications"`
	} `json:"commands"`
	Clusters []Cluster `json:"clusters"`
}

func applyCommand(flags *cli.ClientFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{Use: "apply -f FILE", Short: "Register or replace applications, commands and clusters from a JSON file of Genie v3 resources",
		Args: cobra.NoArgs}
	cmd.Flags().StringVarP(&file, "file", "f", "", `the file: {"applications": [...], "commands": [...], "clusters": [...]} (- for standard input)`)
	cmd.MarkFlagRequired("file")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := flags.Client()
		if err != nil {
			return err
		}
		src, err := cli.ReadInput(cmd, file)
		if err != nil {
			return err
		}
		var f applyFile
		dec := json.NewDecoder(strings.NewReader(string(src)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		put := func(kind, id string, body any) error {
			if id == "" {
				return fmt.Errorf("%s: every %s needs an id, to be replaced on the next apply", file, fmtKind(kind))
			}
			err := c.Do(cmd.Context(), "PUT", apiRoot+"/"+kind+"/"+url.PathEscape(id), body, nil)
			var apiErr *cli.APIError
			if errors.As(err, &apiErr) && apiErr.Status == 404 {
				err = c.Do(cmd.Context(), "POST", apiRoot+"/"+kind, body, nil)
			}
			return err
		}
		for _, a := range f.Applications {
			if err := put(kindApplication, a.ID, a); err != nil {
				return err
			}
		}
		for _, cl := range f.Clusters {
			if err := put(kindCluster, cl.ID, cl); err != nil {
				return err
			}
		}
		for _, cm := range f.Commands {
			if err := put(kindCommand, cm.ID, cm.Command); err != nil {
				return err
			}
			apps := cm.Applications
			if apps == nil {
				apps = []string{}
			}
			if err := c.Do(cmd.Context(), "PUT", apiRoot+"/"+kindCommand+"/"+url.PathEscape(cm.ID)+"/applications", apps, nil); err != nil {
				return err
			}
		}
		fmt.Fprintf(cmd.OutOrStdout(), "applied %s, %s, %s\n", cli.Plural(len(f.Applications), "application", "applications"),
			cli.Plural(len(f.Commands), "command", "commands"), cli.Plural(len(f.Clusters), "cluster", "clusters"))
		return nil
	}
	return cmd
}
