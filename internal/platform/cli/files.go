package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// ReadInput reads the file a command's flag names, or standard input when
// the name is "-". Errors name the file.
func ReadInput(cmd *cobra.Command, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

// WriteOut writes data to w when out is empty or "-", and otherwise to the
// file out with mode, through a temporary file renamed into place so that
// a reader never sees half of it.
func WriteOut(w io.Writer, out string, data []byte, mode os.FileMode) error {
	if out == "" || out == "-" {
		_, err := w.Write(data)
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
