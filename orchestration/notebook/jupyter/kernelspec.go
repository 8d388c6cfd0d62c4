package jupyter

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// KernelSpec is a kernel.json file: how to start a kernel.
type KernelSpec struct {
	// Name is the spec's directory name, by which users choose it.
	Name string `json:"-"`
	// Dir is the directory the spec was read from.
	Dir         string            `json:"-"`
	Argv        []string          `json:"argv"`
	DisplayName string            `json:"display_name"`
	Language    string            `json:"language"`
	Env         map[string]string `json:"env,omitempty"`
	// InterruptMode is "signal" (the default: SIGINT to the kernel) or
	// "message" (an interrupt_request on the control channel).
	InterruptMode string         `json:"interrupt_mode,omitempty"`
	Metadata      map[string]any `json:"metadata,omitempty"`
}

var specName = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// ParseKernelSpec parses the content of a kernel.json; the error names the
// field that is missing or wrong.
func ParseKernelSpec(name string, data []byte) (*KernelSpec, error) {
	if !specName.MatchString(name) {
		return nil, fmt.Errorf("kernel spec name %q: use letters, digits, '.', '_' and '-'", name)
	}
	var s KernelSpec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("kernel spec %s: kernel.json: %w", name, err)
	}
	s.Name = name
	if len(s.Argv) == 0 {
		return nil, fmt.Errorf("kernel spec %s: argv is empty", name)
	}
	if !strings.Contains(strings.Join(s.Argv, " "), "{connection_file}") {
		return nil, fmt.Errorf("kernel spec %s: argv does not pass {connection_file}", name)
	}
	if s.DisplayName == "" {
		return nil, fmt.Errorf("kernel spec %s: display_name is empty", name)
	}
	switch s.InterruptMode {
	case "":
		s.InterruptMode = "signal"
	case "signal", "message":
	default:
		return nil, fmt.Errorf("kernel spec %s: interrupt_mode %q: want signal or message", name, s.InterruptMode)
	}
	return &s, nil
}

// KernelDirs returns the directories searched for kernel specs, in order
// of precedence, as Jupyter searches them: $JUPYTER_PATH entries, the
// user's data directory, then the system ones.
func KernelDirs() []string {
	var dirs []string
	for _, p := range filepath.SplitList(os.Getenv("JUPYTER_PATH")) {
		if p != "" {
			dirs = append(dirs, filepath.Join(p, "kernels"))
		}
	}
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "kernels"))
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".local", "share", "jupyter", "kernels"))
	}
	return append(dirs, "/usr/local/share/jupyter/kernels", "/usr/share/jupyter/kernels")
}

// ErrNoKernelSpec is wrapped by FindKernelSpec when no directory holds
// the named spec.
var ErrNoKernelSpec = errors.New("no such kernel spec")

// FindKernelSpec returns the spec named name from the first of dirs that
// holds it.
func FindKernelSpec(name string, dirs []string) (*KernelSpec, error) {
	for _, d := range dirs {
		s, err := ReadKernelSpec(filepath.Join(d, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return s, err
	}
	known, _ := ListKernelSpecs(dirs)
	names := make([]string, 0, len(known))
	for _, k := range known {
		names = append(names, k.Name)
	}
	return nil, fmt.Errorf("kernel %q: %w (known: %s)", name, ErrNoKernelSpec, strings.Join(names, ", "))
}

// ReadKernelSpec reads dir/kernel.json; the spec is named after dir.
func ReadKernelSpec(dir string) (*KernelSpec, error) {
	data, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		return nil, err
	}
	s, err := ParseKernelSpec(filepath.Base(dir), data)
	if err != nil {
		return nil, err
	}
	s.Dir = dir
	return s, nil
}

// ListKernelSpecs returns the readable specs of dirs sorted by name; a
// name in an earlier directory hides the same name in later ones.
func ListKernelSpecs(dirs []string) ([]*KernelSpec, error) {
	seen := map[string]bool{}
	var out []*KernelSpec
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.IsDir() || seen[e.Name()] {
				continue
			}
			s, err := ReadKernelSpec(filepath.Join(d, e.Name()))
			if err != nil {
				continue
			}
			seen[e.Name()] = true
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// command returns the spec's argv with {connection_file} and {resource_dir}
// replaced.
func (s *KernelSpec) command(connectionFile string) []string {
	argv := make([]string, len(s.Argv))
	for i, a := range s.Argv {
		a = strings.ReplaceAll(a, "{connection_file}", connectionFile)
		argv[i] = strings.ReplaceAll(a, "{resource_dir}", s.Dir)
	}
	return argv
}
