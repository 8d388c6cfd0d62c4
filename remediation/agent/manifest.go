package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gaffer-sre/gaffer/remediation/schema"
)

// ManifestFile is the name of an action's manifest in its directory.
const ManifestFile = "action.yaml"

// Limits on actions.
const (
	DefaultTimeout   = time.Minute
	MaxTimeout       = 24 * time.Hour
	DefaultOutputCap = 1 << 20
	// MaxOutputCap keeps a result (stdout and stderr) within one NATS
	// message of 8 MiB.
	MaxOutputCap = 3 << 20
)

// Manifest declares an action: what it is called, what it runs and with
// which parameters, and its limits. It is read from action.yaml in the
// action's directory.
type Manifest struct {
	Name        string `yaml:"name"`
	Version     string `yaml:"version"`
	Description string `yaml:"description"`
	// Command is the executable, relative to the action's directory. It is
	// run directly, never through a shell.
	Command string `yaml:"command"`
	// Args are the command's arguments. "{{name}}" in an argument is
	// replaced by the value of parameter name; each element stays one
	// argument, whatever the value holds.
	Args []string `yaml:"args"`
	// Params is the JSON Schema of the parameters (an object).
	Params map[string]any `yaml:"params"`
	// Timeout of one run (default 1m); the process group is killed then.
	Timeout string `yaml:"timeout"`
	// OutputCap bounds each of stdout and stderr ("1MiB", "64KiB" or
	// bytes; default 1 MiB, at most 3 MiB); the rest is dropped.
	OutputCap any `yaml:"output_cap"`
	// User to run as; the agent must run as root to switch users.
	User string `yaml:"user"`
	// Idempotent actions may be run again when their outcome is unknown.
	Idempotent bool `yaml:"idempotent"`
}

// Action is a declared action ready to run.
type Action struct {
	Manifest
	Dir       string
	Path      string
	timeout   time.Duration
	outputCap int
	schema    *schema.Schema
	schemaSrc json.RawMessage
}

// Info describes the action for the server.
func (a *Action) Info() ActionInfo {
	return ActionInfo{Name: a.Name, Version: a.Version, Description: a.Description, Params: a.schemaSrc,
		Idempotent: a.Idempotent, Timeout: a.timeout.String()}
}

var (
	actionName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,99}$`)
	argParam   = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)
)

// LoadAction reads and checks the action in dir.
func LoadAction(dir string) (*Action, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("action %s: %w", dir, err)
	}
	var m Manifest
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("action %s: %s: %w", dir, ManifestFile, err)
	}
	a := &Action{Manifest: m, Dir: dir}
	if err := a.check(); err != nil {
		return nil, fmt.Errorf("action %s: %w", dir, err)
	}
	return a, nil
}

func (a *Action) check() error {
	if !actionName.MatchString(a.Name) {
		return fmt.Errorf("name %q: want lower-case letters, digits, '.', '-' or '_'", a.Name)
	}
	if a.Version == "" {
		return errors.New("version: required")
	}
	if a.Command == "" {
		return errors.New("command: required")
	}
	abs, err := filepath.Abs(filepath.Join(a.Dir, a.Command))
	if err != nil {
		return err
	}
	dirAbs, _ := filepath.Abs(a.Dir)
	if rel, err := filepath.Rel(dirAbs, abs); err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("command %q: must be inside the action's directory", a.Command)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("command: %w", err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("command %q: not an executable file", a.Command)
	}
	a.Path = abs
	if a.timeout, err = parseTimeout(a.Timeout); err != nil {
		return err
	}
	if a.outputCap, err = parseSize(a.OutputCap); err != nil {
		return err
	}
	params := a.Params
	if params == nil {
		params = map[string]any{"type": "object", "additionalProperties": false}
	}
	if a.schemaSrc, err = json.Marshal(params); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	if a.schema, err = schema.Compile(a.Name+"-params", a.schemaSrc); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	props, _ := params["properties"].(map[string]any)
	for i, arg := range a.Args {
		for _, m := range argParam.FindAllStringSubmatch(arg, -1) {
			if _, ok := props[m[1]]; !ok {
				return fmt.Errorf("args[%d]: {{%s}} is not a declared parameter", i, m[1])
			}
		}
	}
	return nil
}

func parseTimeout(s string) (time.Duration, error) {
	if s == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > MaxTimeout {
		return 0, fmt.Errorf("timeout %q: want a duration up to %s", s, MaxTimeout)
	}
	return d, nil
}

func parseSize(v any) (int, error) {
	var n int
	switch x := v.(type) {
	case nil:
		return DefaultOutputCap, nil
	case int:
		n = x
	case string:
		s := strings.TrimSpace(x)
		mult := 1
		for _, u := range []struct {
			suffix string
			mult   int
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"KB", 1000}, {"MB", 1000 * 1000}, {"B", 1}} {
			if strings.HasSuffix(s, u.suffix) {
				s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
				break
			}
		}
		f, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("output_cap %q: want bytes, or a number with KiB or MiB", x)
		}
		n = f * mult
	default:
		return 0, fmt.Errorf("output_cap: want bytes, or a number with KiB or MiB")
	}
	if n <= 0 || n > MaxOutputCap {
		return 0, fmt.Errorf("output_cap: %d bytes is outside 1..%d", n, MaxOutputCap)
	}
	return n, nil
}

// CheckParams validates parameters (a JSON object) against the action's
// schema and returns them decoded.
func (a *Action) CheckParams(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	raw = a.withDefaults(raw)
	v, err := schema.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if err := a.schema.Validate(v); err != nil {
		return nil, fmt.Errorf("params do not match the schema of %s: %w", a.Name, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("params: want an object")
	}
	return m, nil
}

// withDefaults adds the schema's top-level defaults for missing
// parameters.
func (a *Action) withDefaults(raw json.RawMessage) json.RawMessage {
	props, _ := a.Params["properties"].(map[string]any)
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return raw
	}
	changed := false
	for name, p := range props {
		pm, _ := p.(map[string]any)
		if def, ok := pm["default"]; ok {
			if _, set := m[name]; !set {
				m[name], _ = json.Marshal(def)
				changed = true
			}
		}
	}
	if !changed {
		return raw
	}
	out, _ := json.Marshal(m)
	return out
}

// Argv returns the command line for params: each argument with its
// {{name}} references replaced, never split or interpreted by a shell.
func (a *Action) Argv(params map[string]any) []string {
	argv := []string{a.Path}
	for _, arg := range a.Args {
		argv = append(argv, argParam.ReplaceAllStringFunc(arg, func(m string) string {
			name := argParam.FindStringSubmatch(m)[1]
			return paramString(params[name])
		}))
	}
	return argv
}

func paramString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// LoadActions reads every action directory under dir (each holding an
// action.yaml), and the unpacked bundles under dir/.bundles. A broken
// action is reported and left out; two actions with one name are an error.
func LoadActions(dir string) (map[string]*Action, []error) {
	var errs []error
	out := map[string]*Action{}
	var dirs []string
	for _, root := range []string{dir, filepath.Join(dir, bundlesDir)} {
		entries, err := os.ReadDir(root)
		if err != nil {
			if root == dir {
				errs = append(errs, fmt.Errorf("actions directory: %w", err))
			}
			continue
		}
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				if _, err := os.Stat(filepath.Join(root, e.Name(), ManifestFile)); err == nil {
					dirs = append(dirs, filepath.Join(root, e.Name()))
				}
			}
		}
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		a, err := LoadAction(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := out[a.Name]; dup {
			errs = append(errs, fmt.Errorf("action %s is declared twice: %s and %s", a.Name, prev.Dir, d))
			continue
		}
		out[a.Name] = a
	}
	return out, errs
}
