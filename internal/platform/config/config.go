// Package config applies Gaffer's configuration order to a command's
// flags: a flag given on the command line wins, then a GAFFER_* environment
// variable, then a key of the YAML config file, then the flag's default.
//
// Environment variables are the flag name upper-cased with "-" as "_"
// (--data-dir is GAFFER_DATA_DIR). YAML keys are the flag names; lists are
// allowed for list flags.
package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// EnvName returns the environment variable for a flag.
func EnvName(flag string) string {
	return "GAFFER_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Apply sets every flag of fs not given on the command line from the
// environment or the YAML file at path (skipped when path is empty).
func Apply(fs *pflag.FlagSet, path string) error {
	var file map[string]any
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("config file: %w", err)
		}
		if err := yaml.Unmarshal(b, &file); err != nil {
			return fmt.Errorf("config file %s: %w", path, err)
		}
		for k := range file {
			if fs.Lookup(k) == nil && k != "config" {
				return fmt.Errorf("config file %s: unknown setting %q", path, k)
			}
		}
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, e)
			}
			f.Changed = true // given, as much as on the command line
			return
		}
		v, ok := file[f.Name]
		if !ok {
			return
		}
		var s string
		switch t := v.(type) {
		case []any:
			parts := make([]string, len(t))
			for i, p := range t {
				parts[i] = fmt.Sprint(p)
			}
			s = strings.Join(parts, ",")
		case nil:
			return
		default:
			s = fmt.Sprint(t)
		}
		if e := f.Value.Set(s); e != nil {
			err = fmt.Errorf("config file %s: %s: %w", path, f.Name, e)
		}
		f.Changed = true
	})
	return err
}
