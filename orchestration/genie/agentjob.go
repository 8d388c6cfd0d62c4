package genie

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// The agent's side of a Genie job: `gaffer genie agent-exec`, which the
// declared action genie-job runs on the cluster's host. It reads the
// job (agentJob, the action's params) on stdin, checks that the job's
// program is one the host allows, recreates the job's directory under
// the jobs directory and replaces itself with the job's process there,
// so that the agent's timeout and cancel reach the job itself.
//
// Trust: the agent runs only declared actions, and the server signs
// every run request; the job's command line comes from a Genie command
// (registered by holders of genie:write) and the job's arguments. The
// host's allow-list bounds which programs may be run at all; allowing a
// shell (which jobs with setup files need) lets a job run anything the
// action's user can.

// maxAgentJob bounds the job read on stdin.
const maxAgentJob = 4 * maxShipped

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseAgentJob decodes and checks a job sent to an agent.
func parseAgentJob(data []byte) (*agentJob, error) {
	var j agentJob
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	if j.JobID == "" {
		return nil, errors.New("job_id: required")
	}
	if err := validID(j.JobID); err != nil {
		return nil, fmt.Errorf("job_id: %w", err)
	}
	if len(j.Argv) == 0 || j.Argv[0] == "" {
		return nil, errors.New("argv: want the program and its arguments")
	}
	for i, a := range j.Argv {
		if strings.ContainsRune(a, 0) {
			return nil, fmt.Errorf("argv[%d]: holds a NUL byte", i)
		}
	}
	for i, kv := range j.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !envName.MatchString(k) || strings.ContainsRune(kv, 0) {
			return nil, fmt.Errorf("env[%d]: want NAME=value, got %q", i, kv)
		}
	}
	for p := range j.Files {
		if !filepath.IsLocal(p) || p == "stdout" || p == "stderr" || strings.ContainsRune(p, 0) {
			return nil, fmt.Errorf("files: %q is not a path inside the job's directory", p)
		}
	}
	return &j, nil
}

// parseAllowed reads a host's allow-list: one absolute program path a
// line; blank lines and lines starting with # are skipped.
func parseAllowed(r io.Reader) (map[string]bool, error) {
	allowed := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !filepath.IsAbs(line) || filepath.Clean(line) != line {
			return nil, fmt.Errorf("line %d: %q: want a clean absolute path", n, line)
		}
		allowed[line] = true
		if real, err := filepath.EvalSymlinks(line); err == nil {
			allowed[real] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return allowed, nil
}

// programFor finds the job's program and checks that the host allows
// it: argv[0] is an absolute path or a name looked up in the job's PATH.
func programFor(j *agentJob, allowed map[string]bool) (string, error) {
	prog := j.Argv[0]
	if !containsSlash(prog) {
		p, err := lookPath(prog, j.Env)
		if err != nil {
			return "", err
		}
		prog = p
	} else if !filepath.IsAbs(prog) {
		return "", fmt.Errorf("program %q: want an absolute path or a name in PATH", prog)
	}
	prog = filepath.Clean(prog)
	if allowed[prog] {
		return prog, nil
	}
	if real, err := filepath.EvalSymlinks(prog); err == nil && allowed[real] {
		return prog, nil
	}
	return "", fmt.Errorf("program %s: not in this host's allow-list of Genie programs", prog)
}

// stageAgentJob writes the job's directory under jobsDir and returns it.
func stageAgentJob(j *agentJob, jobsDir string) (string, error) {
	dir := filepath.Join(jobsDir, j.JobID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for rel, data := range j.Files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, data, 0o755); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// pruneJobDirs removes the job directories under jobsDir last changed
// before cutoff: a host's jobs directory is otherwise never emptied (the
// server keeps the job's output and staged files).
func pruneJobDirs(jobsDir string, cutoff time.Time) error {
	entries, err := os.ReadDir(jobsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !e.IsDir() || !fi.ModTime().Before(cutoff) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(jobsDir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func agentExecCommand() *cobra.Command {
	var allowedFile, jobsDir string
	var keep time.Duration
	cmd := &cobra.Command{Use: "agent-exec --allowed FILE --jobs-dir DIR < JOB",
		Short: "Run a Genie job sent to this host's agent (the genie-job action runs this; see docs/genie.md)",
		Args:  cobra.NoArgs}
	cmd.Flags().StringVar(&allowedFile, "allowed", "", "file of the programs jobs may run, one absolute path a line (required)")
	cmd.Flags().StringVar(&jobsDir, "jobs-dir", "", "directory of the jobs' working directories (required)")
	cmd.Flags().DurationVar(&keep, "keep", 7*24*time.Hour, "remove job directories unchanged for this long before staging a job (0: keep them)")
	cmd.MarkFlagRequired("allowed")
	cmd.MarkFlagRequired("jobs-dir")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		f, err := os.Open(allowedFile)
		if err != nil {
			return fmt.Errorf("--allowed: %w", err)
		}
		allowed, err := parseAllowed(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--allowed %s: %w", allowedFile, err)
		}
		data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxAgentJob+1))
		if err != nil {
			return fmt.Errorf("read the job: %w", err)
		}
		if len(data) > maxAgentJob {
			return fmt.Errorf("the job is larger than %d bytes", maxAgentJob)
		}
		j, err := parseAgentJob(data)
		if err != nil {
			return err
		}
		prog, err := programFor(j, allowed)
		if err != nil {
			return err
		}
		if !filepath.IsAbs(jobsDir) {
			return fmt.Errorf("--jobs-dir %q: want an absolute path", jobsDir)
		}
		if keep > 0 {
			if err := pruneJobDirs(jobsDir, time.Now().Add(-keep)); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: remove old job directories: %v\n", err)
			}
		}
		dir, err := stageAgentJob(j, jobsDir)
		if err != nil {
			return fmt.Errorf("stage job %s: %w", j.JobID, err)
		}
		if err := os.Chdir(dir); err != nil {
			return err
		}
		env := append(append([]string(nil), j.Env...), "HOME="+dir, "GENIE_JOB_DIR="+dir)
		return fmt.Errorf("run %s: %w", prog, syscall.Exec(prog, j.Argv, env))
	}
	return cmd
}
