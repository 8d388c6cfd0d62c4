package seal

import (
	"bytes"
	"testing"
)

// FuzzParseBlob checks that ParseBlob never panics, that what it accepts
// splits the input exactly, and that Open refuses whatever was not sealed.
func FuzzParseBlob(f *testing.F) {
	kr, err := New("certs", "fuzz", bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	blob, _, _ := kr.Seal([]byte("seed"), "label")
	f.Add(blob)
	f.Add([]byte("gsl1"))
	f.Add([]byte("gsl1\x01k"))
	f.Add([]byte("gsk1 legacy sshca blob"))
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := ParseBlob(in)
		if err != nil {
			return
		}
		if len(b.KeyID) == 0 || len(b.Nonce) != nonceSize || len(b.Ciphertext) < tagSize {
			t.Fatalf("accepted %q as %+v", in, b)
		}
		joined := append(append(bytes.Clone(b.Header), b.Nonce...), b.Ciphertext...)
		if !bytes.Equal(joined, in) {
			t.Fatalf("the parts of %q do not join up to it", in)
		}
		// Only a seal of "seed" opens (the seed differs in each fuzzing
		// process: its nonce is random).
		if pt, err := kr.Open(in, "label"); err == nil && string(pt) != "seed" {
			t.Fatalf("opened a blob nobody sealed: %q -> %q", in, pt)
		}
	})
}
