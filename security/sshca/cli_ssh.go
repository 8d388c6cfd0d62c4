package sshca

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// newSSHCommand is `gaffer ssh`: logging in with a short-lived
// certificate from the SSH CA.
func newSSHCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "ssh", Short: "SSH access with short-lived certificates from Gaffer's SSH CA"}
	flags := cli.AddClientFlags(cmd)
	cmd.AddCommand(sshLoginCommand(flags))
	return cmd
}

// loginOptions are the flags of `gaffer ssh login`.
type loginOptions struct {
	req         SignRequest
	keyDir      string
	noAgent     bool
	idTokenFile string
}

func sshLoginCommand(flags *cli.ClientFlags) *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Make an ephemeral key, get it a certificate, and load both into ssh-agent (or write them to ~/.ssh)",
		Long: `login creates a new ed25519 key that never leaves this machine, asks the CA to
certify it for your identity (the identity your token is bound to, or the one
your OIDC ID token proves), and adds key and certificate to the running
ssh-agent with a lifetime that ends when the certificate does. Without an
agent it writes gaffer_ed25519, gaffer_ed25519.pub and gaffer_ed25519-cert.pub
to --key-dir and says how to use them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return sshLogin(cmd, flags, &o) },
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.req.Principals, "principal", nil, "user names to log in as (default: the policy's, i.e. your identity)")
	f.StringVar(&o.req.Validity, "validity", "", "certificate lifetime, e.g. 5m (default: the policy's)")
	f.StringSliceVar(&o.req.SourceAddresses, "source-address", nil, "CIDR the certificate may be used from; repeatable")
	f.StringVar(&o.keyDir, "key-dir", "", "where to write the key without an agent (default ~/.ssh)")
	f.BoolVar(&o.noAgent, "no-agent", false, "write the key and certificate to --key-dir even when ssh-agent runs")
	f.StringVar(&o.idTokenFile, "id-token-file", "", "file with an OIDC ID token proving your identity (env GAFFER_SSH_ID_TOKEN holds one too)")
	return cmd
}

func sshLogin(cmd *cobra.Command, flags *cli.ClientFlags, o *loginOptions) error {
	c, err := flags.Client()
	if err != nil {
		return err
	}
	o.req.IDToken = os.Getenv("GAFFER_SSH_ID_TOKEN")
	if o.idTokenFile != "" {
		b, err := os.ReadFile(o.idTokenFile)
		if err != nil {
			return fmt.Errorf("id-token-file: %w", err)
		}
		o.req.IDToken = strings.TrimSpace(string(b))
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	o.req.PublicKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	var rec Cert
	if err := c.Do(cmd.Context(), "POST", "/api/v1/sshca/sign", o.req, &rec); err != nil {
		return err
	}
	parsed, _, _, _, err := ssh.ParseAuthorizedKey([]byte(rec.Certificate))
	if err != nil {
		return fmt.Errorf("the CA's answer is not a certificate: %w", err)
	}
	cert, ok := parsed.(*ssh.Certificate)
	if !ok {
		return errors.New("the CA's answer is not a certificate")
	}
	out := cmd.OutOrStdout()
	what := fmt.Sprintf("certificate %d for %s, valid until %s", rec.Serial, strings.Join(rec.Principals, ","),
		rec.ValidBefore.Local().Format(time.DateTime))
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" && !o.noAgent {
		err := addToAgent(sock, priv, cert, rec.ValidBefore)
		if err == nil {
			fmt.Fprintf(out, "Added %s to ssh-agent. Log in with: ssh %s@HOST\n", what, rec.Principals[0])
			return nil
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "could not add the key to ssh-agent (%v); writing files instead\n", err)
	}
	return writeLoginFiles(out, o.keyDir, priv, sshPub, rec, what)
}

func addToAgent(sock string, priv ed25519.PrivateKey, cert *ssh.Certificate, until time.Time) error {
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return err
	}
	defer conn.Close()
	life := time.Until(until)
	if life < time.Second {
		life = time.Second
	}
	return agent.NewClient(conn).Add(agent.AddedKey{PrivateKey: priv, Certificate: cert,
		Comment: fmt.Sprintf("gaffer sshca serial %d", cert.Serial), LifetimeSecs: uint32(life / time.Second)})
}

func writeLoginFiles(out io.Writer, dir string, priv ed25519.PrivateKey, pub ssh.PublicKey, rec Cert, what string) error {
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("key-dir: %w", err)
		}
		dir = filepath.Join(home, ".ssh")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("key-dir: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "gaffer ssh login")
	if err != nil {
		return err
	}
	base := filepath.Join(dir, "gaffer_ed25519")
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{base, pem.EncodeToMemory(block), 0o600},
		{base + ".pub", ssh.MarshalAuthorizedKey(pub), 0o644},
		{base + "-cert.pub", []byte(rec.Certificate + "\n"), 0o644},
	} {
		if err := cli.WriteOut(nil, f.path, f.data, f.mode); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	fmt.Fprintf(out, "No ssh-agent used: wrote the key to %s and the %s to %s-cert.pub.\n"+
		"Log in with: ssh -i %s %s@HOST (ssh finds the certificate beside the key).\n",
		base, what, base, base, rec.Principals[0])
	return nil
}
