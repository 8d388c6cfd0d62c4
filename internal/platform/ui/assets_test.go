package ui

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

// TestAssetsServesFilesUnderPrefix serves a file below the prefix with an
// hour's cache and answers 404 for one that is not there.
func TestAssetsServesFilesUnderPrefix(t *testing.T) {
	h := Assets("/sys/assets/", fstest.MapFS{"app.js": {Data: []byte("console.log(1)")}})
	rec := httptest.NewRecorder()
	if err := h(rec, httptest.NewRequest("GET", "/sys/assets/app.js", nil)); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK || rec.Body.String() != "console.log(1)" {
		t.Errorf("app.js: %d %q", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Cache-Control"); got != "public, max-age=3600" {
		t.Errorf("Cache-Control: %q", got)
	}
	rec = httptest.NewRecorder()
	if err := h(rec, httptest.NewRequest("GET", "/sys/assets/missing.js", nil)); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusNotFound {
		t.Errorf("missing.js: %d, want 404", rec.Code)
	}
}
