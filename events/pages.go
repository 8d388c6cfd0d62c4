package events

import "github.com/gaffer-sre/gaffer/internal/platform/ui"

type pages struct{}

func newPages(s *Service, shell *ui.Shell) *pages { return &pages{} }
