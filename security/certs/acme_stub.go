package certs

import "github.com/gaffer-sre/gaffer/internal/platform/httpapi"

type acmeServer struct{}

func newACMEServer(m *Manager, s *Settings) *acmeServer { return &acmeServer{} }

func (a *acmeServer) routes(r *httpapi.Router, p string) {}

func (m *Manager) obtainACME(ctx interface{}, req IssueRequest) (Certificate, error) {
	return Certificate{}, badInput("not yet")
}
