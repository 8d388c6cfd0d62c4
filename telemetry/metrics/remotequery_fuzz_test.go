package metrics

import (
	"bytes"
	"testing"
)

// FuzzDecodeEnvelope: any answer of a remote query API decodes into data
// and warnings or gives an error, never a panic, and success needs
// "status": "success".
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(200, []byte(`{"status":"success","data":["a","b"],"warnings":["w"]}`))
	f.Add(400, []byte(`{"status":"error","errorType":"bad_data","error":"parse error"}`))
	f.Add(502, []byte(`<html>bad gateway</html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		var out []string
		if _, err := decodeEnvelope(status, body, &out); err == nil && !bytes.Contains(body, []byte("success")) {
			t.Fatalf("accepted %q without a success status", body)
		}
	})
}
