package changepoint

import (
	"bytes"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestPageForms(t *testing.T) {
	srv, tok, _ := start(t)
	resp := srv.Do("GET", "/changepoint", tok, nil)
	body := string(resp.Body)
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, body)
	}
	for _, want := range []string{`id="signal-form"`, `id="series-form"`, `href="/changepoint" class="active"`,
		`<option selected>pelt</option>`, `src="/changepoint/assets/changepoint.js"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The script is public, like the shell's assets.
	resp = srv.Do("GET", "/changepoint/assets/changepoint.js", "", nil)
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "drawClear") {
		t.Errorf("script: status %d", resp.Status)
	}
}

// multipartBody builds a form post with fields and an optional file.
func multipartBody(t *testing.T, fields map[string]string, file string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if file != "" {
		fw, err := w.CreateFormFile("file", "signal.csv")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(file))
	}
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func TestPageDetect(t *testing.T) {
	srv, tok, _ := start(t)
	steps := strings.Repeat("1\n", 20) + strings.Repeat("8\n", 20) + strings.Repeat("3\n", 20)
	params := map[string]string{"method": "binseg", "cost": "l2", "n_bkps": "2", "jump": "1"}

	// Pasted text.
	fields := map[string]string{"signal": steps}
	for k, v := range params {
		fields[k] = v
	}
	ct, body := multipartBody(t, fields, "")
	resp := srv.DoWith("POST", "/changepoint", tok, ct, body)
	page := html.UnescapeString(string(resp.Body))
	if resp.Status != http.StatusOK || !strings.Contains(page, `<td class="mono bkp">20</td>`) ||
		!strings.Contains(page, `<td class="mono bkp">40</td>`) || !strings.Contains(page, `"starts":[0,20,40]`) {
		t.Fatalf("pasted: status %d: %s", resp.Status, page)
	}

	// Uploaded file (JSON), which wins over the text box.
	ct, body = multipartBody(t, params, "[5,5,5,5,5,9,9,9,9,9,9,9,1,1,1,1,1,1]")
	resp = srv.DoWith("POST", "/changepoint", tok, ct, body)
	page = html.UnescapeString(string(resp.Body))
	if resp.Status != http.StatusOK || !strings.Contains(page, `"starts":[0,5,12]`) {
		t.Fatalf("upload: status %d: %s", resp.Status, page)
	}

	// Errors are shown on the page, with the form kept.
	form := url.Values{"signal": {"1\n2\n"}, "method": {"pelt"}, "cost": {"l2"}}
	resp = srv.DoWith("POST", "/changepoint", tok, "application/x-www-form-urlencoded", form.Encode())
	page = html.UnescapeString(string(resp.Body))
	if resp.Status != http.StatusBadRequest || !strings.Contains(page, "give exactly one of pen, n_bkps and epsilon") {
		t.Fatalf("error: status %d: %s", resp.Status, page)
	}
}

func TestPageSeries(t *testing.T) {
	srv, tok, svc := start(t)
	db, _, shift := openStore(t)
	useStore(svc, db)
	q := url.Values{"q": {`cpu{host="a"}`}, "jump": {"1"}}
	resp := srv.Do("GET", "/changepoint?"+q.Encode(), tok, nil)
	page := html.UnescapeString(string(resp.Body))
	if resp.Status != http.StatusOK || !strings.Contains(page, `cpu{host="a"}`) ||
		!strings.Contains(page, shift.UTC().Format("2006-01-02T15:04:05Z")) || !strings.Contains(page, `"time":true`) {
		t.Fatalf("status %d: %s", resp.Status, page)
	}
	resp = srv.Do("GET", "/changepoint?q=cpu{", tok, nil)
	if resp.Status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(string(resp.Body)), "q: 1:5: parse error") {
		t.Fatalf("bad selector: status %d", resp.Status)
	}
}
