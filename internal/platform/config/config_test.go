package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
)

func TestOrderFlagEnvFileDefault(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gaffer.yaml")
	os.WriteFile(path, []byte("listen: 127.0.0.1:1\ndata-dir: /from/file\nroles: [events, tsdb]\ndemo: true\n"), 0o600)
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	listen := fs.String("listen", "default", "")
	dataDir := fs.String("data-dir", "default", "")
	roles := fs.StringSlice("roles", []string{"all"}, "")
	demo := fs.Bool("demo", false, "")
	db := fs.String("db", "default", "")
	if err := fs.Parse([]string{"--listen", "127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GAFFER_DATA_DIR", "/from/env")
	if err := Apply(fs, path); err != nil {
		t.Fatal(err)
	}
	if *listen != "127.0.0.1:9" || *dataDir != "/from/env" || len(*roles) != 2 || (*roles)[1] != "tsdb" || !*demo || *db != "default" {
		t.Fatalf("listen=%q data-dir=%q roles=%v demo=%v db=%q", *listen, *dataDir, *roles, *demo, *db)
	}
	// A setting given by a variable or the file counts as given, as on
	// the command line (serve uses it for --nats-listen); a default does
	// not.
	for name, want := range map[string]bool{"listen": true, "data-dir": true, "roles": true, "demo": true, "db": false} {
		if got := fs.Changed(name); got != want {
			t.Errorf("Changed(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestUnknownAndBadSettings(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gaffer.yaml")
	os.WriteFile(path, []byte("lisen: x\n"), 0o600)
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("listen", "", "")
	fs.Bool("demo", false, "")
	if err := Apply(fs, path); err == nil {
		t.Fatal("want error for unknown setting")
	}
	t.Setenv("GAFFER_DEMO", "maybe")
	if err := Apply(fs, ""); err == nil {
		t.Fatal("want error for bad boolean in environment")
	}
}
