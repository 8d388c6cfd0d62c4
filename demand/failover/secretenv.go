package failover

import (
	"fmt"
	"os"
	"strings"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
)

// DefaultSecretEnvPrefix is the prefix a webhook provider's secret_env
// must have unless --failover-secret-env-prefix sets another: a fleet
// author can name only variables meant for webhook secrets, never the
// server's other ones (key-encryption keys, database passwords).
const DefaultSecretEnvPrefix = "GAFFER_FAILOVER_SECRET_"

// checkSecretEnv refuses a fleet whose webhook secret_env lies outside
// the allowed prefix, as a *fleet.Error naming the field. It does not
// look the variable up, so it reveals nothing about the environment.
func (s *Service) checkSecretEnv(f *fleet.Fleet) error {
	w := f.Provider.Webhook
	if w == nil || w.SecretEnv == "" || strings.HasPrefix(w.SecretEnv, s.settings.SecretEnvPrefix) {
		return nil
	}
	return &fleet.Error{Problems: []fleet.Problem{{Path: "provider.webhook.secret_env", Message: s.secretEnvOutside(w.SecretEnv)}}}
}

func (s *Service) secretEnvOutside(name string) string {
	return fmt.Sprintf("%q does not start with %s: webhook secrets can be read only from server environment variables with that prefix (--failover-secret-env-prefix)",
		name, s.settings.SecretEnvPrefix)
}

// webhookSecret reads the signing secret a webhook provider names: nil
// without secret_env, a permanent error when the name lies outside the
// prefix (checked before any lookup, so the answer is the same whether
// such a variable exists or not) or the variable is unset or empty.
func (s *Service) webhookSecret(w *fleet.Webhook) ([]byte, error) {
	if w.SecretEnv == "" {
		return nil, nil
	}
	if !strings.HasPrefix(w.SecretEnv, s.settings.SecretEnvPrefix) {
		return nil, provider.Permanent(fmt.Errorf("provider.webhook.secret_env: %s", s.secretEnvOutside(w.SecretEnv)))
	}
	v, ok := os.LookupEnv(w.SecretEnv)
	if !ok || v == "" {
		return nil, provider.Permanent(fmt.Errorf("provider.webhook.secret_env: %s is not set on the server, or empty", w.SecretEnv))
	}
	return []byte(v), nil
}
