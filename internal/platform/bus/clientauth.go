package bus

import (
	"crypto/subtle"
	"errors"
	"strings"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
)

// ClientCredentials are what a client other than Gaffer's own processes
// presented when connecting to the embedded server.
type ClientCredentials struct {
	User     string
	Password string
	Token    string
	// Remote is the client's network address.
	Remote string
}

// ClientGrant is what an accepted client may do.
type ClientGrant struct {
	// Name identifies the connection (for DisconnectUser and monitoring).
	Name string
	// Publish and Subscribe are the subjects (wildcards allowed) the client
	// may publish and subscribe to; nothing else is allowed.
	Publish, Subscribe []string
	// Responses lets the client reply once to each request it receives,
	// whatever the reply subject.
	Responses bool
}

// ClientAuth decides whether a client whose user name starts with a
// registered prefix may connect, and what it may do. It returns an error to
// refuse the connection. It runs on the connection's goroutine and should
// answer quickly.
type ClientAuth func(c ClientCredentials) (*ClientGrant, error)

// clientAuth is the embedded server's authenticator: Gaffer's own
// processes log in as the internal user; every other user name is handed
// to the ClientAuth registered for its prefix, if any.
type clientAuth struct {
	internalUser, secret string

	mu       sync.RWMutex
	prefixes map[string]ClientAuth
	// conns are the connection IDs of each granted name.
	conns map[string]map[uint64]bool
}

func newClientAuth(user, secret string) *clientAuth {
	return &clientAuth{internalUser: user, secret: secret, prefixes: map[string]ClientAuth{},
		conns: map[string]map[uint64]bool{}}
}

// Check implements server.Authentication.
func (a *clientAuth) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	if o.Username == a.internalUser {
		return subtle.ConstantTimeCompare([]byte(o.Password), []byte(a.secret)) == 1
	}
	a.mu.RLock()
	var fn ClientAuth
	for prefix, f := range a.prefixes {
		if strings.HasPrefix(o.Username, prefix) {
			fn = f
			break
		}
	}
	a.mu.RUnlock()
	if fn == nil {
		return false
	}
	remote := ""
	if addr := c.RemoteAddress(); addr != nil {
		remote = addr.String()
	}
	g, err := fn(ClientCredentials{User: o.Username, Password: o.Password, Token: o.Token, Remote: remote})
	if err != nil || g == nil {
		return false
	}
	perms := &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: nonEmpty(g.Publish)},
		Subscribe: &server.SubjectPermission{Allow: nonEmpty(g.Subscribe)},
	}
	if g.Responses {
		perms.Response = &server.ResponsePermission{MaxMsgs: 1}
	}
	c.RegisterUser(&server.User{Username: g.Name, Permissions: perms})
	a.mu.Lock()
	if a.conns[g.Name] == nil {
		a.conns[g.Name] = map[uint64]bool{}
	}
	a.conns[g.Name][c.GetID()] = true
	a.mu.Unlock()
	return true
}

// nonEmpty returns subjects, or a subject no one uses when there are none
// (an empty allow list would allow everything).
func nonEmpty(subjects []string) []string {
	if len(subjects) == 0 {
		return []string{"_gaffer.nothing"}
	}
	return subjects
}

// HandleClientAuth lets clients whose NATS user name starts with prefix
// connect to the embedded server when fn grants them, with only the
// permissions it grants. Grants are decided at connect time; to withdraw
// one, call DisconnectUser (a reconnect is decided afresh). On an external
// NATS server it returns an error: there, users are the operator's (see
// docs/remediation.md for what to configure).
func (b *Bus) HandleClientAuth(prefix string, fn ClientAuth) error {
	if b.auth == nil {
		return errors.New("bus: client authentication is decided by the external NATS server")
	}
	if prefix == "" || prefix == b.auth.internalUser {
		return errors.New("bus: a client auth prefix must be non-empty and not the internal user")
	}
	b.auth.mu.Lock()
	defer b.auth.mu.Unlock()
	b.auth.prefixes[prefix] = fn
	return nil
}

// DisconnectUser closes every connection granted under name and reports
// how many were open. It does nothing on an external server.
func (b *Bus) DisconnectUser(name string) int {
	if b.auth == nil || b.server == nil {
		return 0
	}
	b.auth.mu.Lock()
	ids := b.auth.conns[name]
	delete(b.auth.conns, name)
	b.auth.mu.Unlock()
	n := 0
	for id := range ids {
		if b.server.DisconnectClientByID(id) == nil {
			n++
		}
	}
	return n
}
