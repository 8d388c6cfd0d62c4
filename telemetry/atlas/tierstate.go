package atlas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// tierQueriesFile keeps, in the data directory, the queries admitted to
// the memory tier, so that a restarted process admits them again at once
// instead of waiting for each dashboard's first graph.
const tierQueriesFile = "atlas-tier-queries.json"

func (s *Service) tierQueriesPath() string {
	return filepath.Join(s.deps.DataDir, tierQueriesFile)
}

// readmitTierQueries asks the tier for the queries the previous process
// saved.
func (s *Service) readmitTierQueries() {
	b, err := os.ReadFile(s.tierQueriesPath())
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var qs []stack.TierQuery
	if err == nil {
		err = json.Unmarshal(b, &qs)
	}
	if err != nil {
		s.log.Warn("atlas: memory tier: the saved queries are unreadable; graphs will admit their queries again", "file", s.tierQueriesPath(), "error", err)
		return
	}
	n, err := s.tier.Readmit(qs)
	if err != nil {
		s.log.Warn("atlas: memory tier: a saved query was skipped", "error", err)
	}
	s.log.Info("atlas: memory tier: admitting the queries graphed before the restart", "queries", n, "saved", len(qs))
}

// saveTierQueries writes the tier's admitted queries, replacing the file
// whole (a crash leaves the old list or the new one); an unchanged list is
// not written again.
func (s *Service) saveTierQueries() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	b, err := json.Marshal(s.tier.AdmittedQueries())
	if err != nil {
		return fmt.Errorf("encode the memory tier's queries: %w", err)
	}
	if bytes.Equal(b, s.savedTierQueries) {
		return nil
	}
	path := s.tierQueriesPath()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save the memory tier's queries: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save the memory tier's queries: %w", err)
	}
	s.savedTierQueries = b
	return nil
}

// keepTierQueries saves the tier's queries every interval until ctx ends.
func (s *Service) keepTierQueries(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := s.saveTierQueries(); err != nil {
				s.log.Warn("atlas: memory tier", "error", err)
			}
		}
	}
}
