package seal

import (
	"context"
	"strings"
	"testing"
)

func TestRunCommand(t *testing.T) {
	ctx := context.Background()
	out, err := RunCommand(ctx, `echo "key-for-$1 $GAFFER_KEK_NAME"`, "sshca")
	if err != nil || out != "key-for-sshca sshca\n" {
		t.Fatalf("RunCommand = %q, %v", out, err)
	}
	for cmd, want := range map[string]string{
		"":                                     "empty",
		"exit 3":                               "exit status 3",
		"echo no vault token >&2; exit 1":      `no vault token`,
		"true":                                 "printed nothing",
		"head -c 70000 /dev/zero | tr '\\0' a": "more than 65536 bytes",
	} {
		_, err := RunCommand(ctx, cmd, "certs")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("RunCommand(%q): %v, want an error saying %q", cmd, err, want)
		}
	}
}
