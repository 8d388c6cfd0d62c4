package notebook

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
)

// KernelSpecInfo describes a kernel spec runs may use.
type KernelSpecInfo struct {
	Name          string   `json:"name"`
	DisplayName   string   `json:"display_name"`
	Language      string   `json:"language"`
	Argv          []string `json:"argv"`
	InterruptMode string   `json:"interrupt_mode"`
	// Dir is where the spec was found; Installed says Gaffer installed it.
	Dir       string `json:"dir"`
	Installed bool   `json:"installed"`
}

// KernelInstall installs a kernel spec: its name and its kernel.json.
type KernelInstall struct {
	Name string          `json:"name"`
	Spec json.RawMessage `json:"spec"`
}

// KernelSpecs lists the kernel specs runs may use: those installed
// through Gaffer first, then Jupyter's.
func (s *Service) KernelSpecs() ([]KernelSpecInfo, error) {
	specs, err := jupyter.ListKernelSpecs(s.kernelDirs())
	if err != nil {
		return nil, err
	}
	out := make([]KernelSpecInfo, 0, len(specs))
	for _, k := range specs {
		out = append(out, KernelSpecInfo{Name: k.Name, DisplayName: k.DisplayName, Language: k.Language, Argv: k.Argv,
			InterruptMode: k.InterruptMode, Dir: k.Dir, Installed: filepath.Dir(k.Dir) == s.specDir})
	}
	return out, nil
}

// InstallKernelSpec checks a kernel.json and installs it under Gaffer's
// data directory, replacing an installed spec of the same name; it hides
// a Jupyter spec of that name.
func (s *Service) InstallKernelSpec(in KernelInstall) (*KernelSpecInfo, error) {
	spec, err := jupyter.ParseKernelSpec(in.Name, in.Spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	dir := filepath.Join(s.specDir, spec.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("install kernel spec %s: %w", spec.Name, err)
	}
	tmp := filepath.Join(dir, ".kernel.json.tmp")
	if err := os.WriteFile(tmp, in.Spec, 0o600); err != nil {
		return nil, fmt.Errorf("install kernel spec %s: %w", spec.Name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "kernel.json")); err != nil {
		return nil, fmt.Errorf("install kernel spec %s: %w", spec.Name, err)
	}
	return &KernelSpecInfo{Name: spec.Name, DisplayName: spec.DisplayName, Language: spec.Language, Argv: spec.Argv,
		InterruptMode: spec.InterruptMode, Dir: dir, Installed: true}, nil
}
