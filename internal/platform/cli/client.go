// Package cli is what Gaffer's client subcommands share: the --server and
// --token flags, an HTTP client for the API that turns error envelopes into
// Go errors, and table or JSON output.
package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform/tlsca"
)

// DefaultServer is where clients look for Gaffer unless told otherwise.
const DefaultServer = "http://127.0.0.1:7070"

// ClientFlags are the connection flags of a client command.
type ClientFlags struct {
	Server    string
	Token     string
	TokenFile string
	Timeout   time.Duration
	// CAFile is the CA certificate (PEM) an https server must present a
	// certificate from: the bootstrap bundle of `gaffer serve --tls`.
	CAFile string
}

// AddClientFlags registers --server, --token, --token-file and --timeout
// on cmd (environment: GAFFER_SERVER, GAFFER_TOKEN, GAFFER_TOKEN_FILE).
func AddClientFlags(cmd *cobra.Command) *ClientFlags {
	f := &ClientFlags{}
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.Server, "server", DefaultServer, "Gaffer server URL (env GAFFER_SERVER)")
	fl.StringVar(&f.Token, "token", "", "API token (env GAFFER_TOKEN)")
	fl.StringVar(&f.TokenFile, "token-file", "", "file holding the API token (env GAFFER_TOKEN_FILE; default ./gaffer-data/admin.token when it exists)")
	fl.DurationVar(&f.Timeout, "timeout", 60*time.Second, "request timeout")
	fl.StringVar(&f.CAFile, "ca-file", "", "CA certificate (PEM) to verify an https server with: <data-dir>/ca.pem of `gaffer serve --tls` (env GAFFER_CA_FILE)")
	return f
}

// Client calls the Gaffer API.
type Client struct {
	Server string
	Token  string
	HTTP   *http.Client
	// TLS is the pinned configuration for an https server, else nil.
	TLS *tls.Config
}

// Client returns an API client from the flags.
func (f *ClientFlags) Client() (*Client, error) {
	tok := strings.TrimSpace(f.Token)
	if tok == "" {
		file := f.TokenFile
		if file == "" {
			if _, err := os.Stat(filepath.Join("gaffer-data", "admin.token")); err == nil {
				file = filepath.Join("gaffer-data", "admin.token")
			}
		}
		if file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("token-file: %w", err)
			}
			tok = strings.TrimSpace(string(b))
		}
	}
	if tok == "" {
		return nil, errors.New("no API token: pass --token or --token-file, or set GAFFER_TOKEN")
	}
	c, err := f.PublicClient()
	if err != nil {
		return nil, err
	}
	c.Token = tok
	return c, nil
}

// PublicClient returns a client without a token, for public routes; an
// https server is verified as for Client.
func (f *ClientFlags) PublicClient() (*Client, error) {
	server := strings.TrimRight(f.Server, "/")
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return nil, fmt.Errorf("server: %q must start with http:// or https://", f.Server)
	}
	c := &Client{Server: server, HTTP: &http.Client{Timeout: f.Timeout}}
	var err error
	if c.TLS, err = PinnedTLS(server, f.CAFile); err != nil {
		return nil, err
	}
	if c.TLS != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = c.TLS
		c.HTTP.Transport = tr
	}
	return c, nil
}

// PinnedTLS is how a client verifies server: for an https URL, only
// against the CA certificates in caFile, which is then required (the
// error says how to get it); for http, nil. A CA file with an http URL is
// an error, since nothing would be verified.
func PinnedTLS(server, caFile string) (*tls.Config, error) {
	if !strings.HasPrefix(server, "https://") {
		if caFile != "" {
			return nil, fmt.Errorf("ca-file: given, but server %s is not https:// (the CA would verify nothing)", server)
		}
		return nil, nil
	}
	if caFile == "" {
		return nil, fmt.Errorf("server %s is https but no CA certificate is pinned: pass --ca-file (or set GAFFER_CA_FILE) "+
			"with the server's <data-dir>/%s, copied from the server or fetched with `gaffer tls fetch-ca --server %s "+
			"--fingerprint sha256:...` using the ca_fingerprint the server logs at start", server, tlsca.CertFile, server)
	}
	return tlsca.ClientConfig(caFile)
}

// APIError is an error answer from the server. Its text is the server's
// message and the HTTP status, never the raw answer: a command prints it
// as `gaffer: <command>: <message> (HTTP <status>)`.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
}

// Do sends a request with a JSON body (nil for none) and decodes a JSON
// answer into out (nil to discard it).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Server+path, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, out)
}

// DoRaw sends a request with a raw body and content type.
func (c *Client) DoRaw(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.Server+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	return c.send(req, out)
}

// Get sends a GET and returns the whole body and its content type, for
// answers that are not JSON (a PNG graph, CSV).
func (c *Client) Get(ctx context.Context, path string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Server+path, nil)
	if err != nil {
		return nil, "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", req.URL.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return nil, "", decodeError(resp)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: read answer: %w", req.URL.Path, err)
	}
	return b, resp.Header.Get("Content-Type"), nil
}

// Stream sends a GET and returns the open response body (for server-sent
// events); the caller closes it.
func (c *Client) Stream(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Server+path, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "text/event-stream")
	hc := *c.HTTP
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp.Body, nil
}

func (c *Client) send(req *http.Request, out any) error {
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

func decodeError(resp *http.Response) error { return ResponseError(resp) }

// ResponseError reads an error answer (status 300 or more) into an
// *APIError: the message of Gaffer's {"error": {"code", "message"}}
// envelope, of a {"error": "..."} or {"message": "..."} body, or a short
// plain-text body; any other body (JSON, HTML) is replaced by the status
// text, so that no raw answer reaches the user.
func ResponseError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	code, msg := ErrorMessage(b)
	return &APIError{Status: resp.StatusCode, Code: code, Message: msg}
}

// ErrorMessage extracts the code and message of an error answer's body;
// both are empty when the body holds nothing fit to show a user.
func ErrorMessage(body []byte) (code, message string) {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	text := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &env) == nil {
		var inner struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(env.Error, &inner) == nil && inner.Message != "":
			return inner.Code, inner.Message
		case json.Unmarshal(env.Error, &s) == nil && s != "":
			return "", s
		case env.Message != "":
			return "", env.Message
		}
		return "", ""
	}
	if text == "" || len(text) > 500 || strings.ContainsAny(text[:1], "{[<") {
		return "", ""
	}
	return "", text
}
