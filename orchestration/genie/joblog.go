package genie

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// jobLog is a job's genie/logs/genie.log, where Genie writes what it did
// for the job (pygenie reads it as the job's "genie log"). A nil jobLog
// writes nothing.
type jobLog struct {
	f   *os.File
	now func() time.Time
}

// openJobLog creates the log in the job's directory dir; on failure it
// returns nil (the job runs without it).
func openJobLog(dir string, now func() time.Time) *jobLog {
	logs := filepath.Join(dir, "genie", "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(logs, "genie.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil
	}
	return &jobLog{f: f, now: now}
}

func (l *jobLog) printf(format string, args ...any) {
	if l == nil {
		return
	}
	fmt.Fprintf(l.f, "%s %s\n", l.now().UTC().Format("2006-01-02T15:04:05.000Z"), fmt.Sprintf(format, args...))
}

func (l *jobLog) close() {
	if l != nil {
		l.f.Close()
	}
}

// writeEnvLog writes the job's environment to genie/logs/env.log, as
// Genie does, one KEY=value a line.
func writeEnvLog(dir string, env []string) {
	os.WriteFile(filepath.Join(dir, "genie", "logs", "env.log"), []byte(strings.Join(env, "\n")+"\n"), 0o644)
}
