package notebook

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/notebookapi"
)

// Name is the system's role name.
const Name = notebookapi.Name

func init() {
	platform.Register(platform.Module{Name: Name, New: New,
		Commands: func() []*cobra.Command { return []*cobra.Command{newNotebookCommand()} }})
}

// Service is the running notebook system.
type Service struct{}

// New constructs the service.
func New(_ context.Context, deps *platform.Deps) (platform.Service, error) {
	return &Service{}, nil
}

// Start starts nothing yet.
func (s *Service) Start(context.Context) error { return nil }

// Stop stops nothing yet.
func (s *Service) Stop(context.Context) error { return nil }

// Health has nothing to check yet.
func (s *Service) Health(context.Context) error { return nil }
