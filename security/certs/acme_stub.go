package certs

import "context"

func (m *Manager) obtainACME(ctx context.Context, req IssueRequest) (Certificate, error) {
	return Certificate{}, badInput("not yet")
}
