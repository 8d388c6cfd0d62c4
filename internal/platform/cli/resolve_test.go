package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestResolveTakesAnIDANameOrAUniquePrefix(t *testing.T) {
	refs := []Ref{{ID: "tok_ab12", Name: "ci"}, {ID: "tok_ab34", Name: "deploy"}, {ID: "tok_cd56", Name: "deploy-old"}}
	for arg, want := range map[string]string{"tok_ab12": "tok_ab12", "ci": "tok_ab12", "deploy": "tok_ab34", "tok_c": "tok_cd56"} {
		got, err := Resolve("token", arg, refs)
		if err != nil || got.ID != want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", arg, got, err, want)
		}
	}
	_, err := Resolve("token", "tok_ab", refs)
	if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "ci (tok_ab12), deploy (tok_ab34)") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := Resolve("token", "nosuch", refs); !errors.Is(err, ErrNoMatch) || !strings.Contains(err.Error(), `token "nosuch"`) {
		t.Errorf("no match: %v", err)
	}
	aliased := []Ref{{ID: "r1", Name: "QueueDeep"}, {ID: "r1", Name: "default/QueueDeep"}}
	if got, err := Resolve("rule", "r", aliased); err != nil || got.ID != "r1" {
		t.Errorf("a prefix of a thing listed under two names: %v %v", got, err)
	}
	twins := []Ref{{ID: "a1", Name: "ci"}, {ID: "b2", Name: "ci"}}
	if _, err := Resolve("token", "ci", twins); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("a name two things share: %v", err)
	}
}

func TestPluralAgrees(t *testing.T) {
	for _, c := range []struct {
		n            int
		sing, plural string
		want         string
	}{{0, "problem", "", "0 problems"}, {1, "problem", "", "1 problem"}, {2, "problem", "", "2 problems"}, {2, "policy", "policies", "2 policies"}} {
		if got := Plural(c.n, c.sing, c.plural); got != c.want {
			t.Errorf("Plural(%d, %s) = %q, want %q", c.n, c.sing, got, c.want)
		}
	}
}

func TestResponseErrorNeverShowsRawJSON(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"code":"forbidden","message":"this call needs the \"metrics:read\" scope"}}`: `this call needs the "metrics:read" scope (HTTP 403)`,
		`{"status":"error","errorType":"bad_data","error":"parse error"}`:                       "parse error (HTTP 403)",
		`{"unexpected":true}`:          "HTTP 403 Forbidden",
		`<html>denied</html>`:          "HTTP 403 Forbidden",
		"forbidden by proxy\n":         "forbidden by proxy (HTTP 403)",
		"":                             "HTTP 403 Forbidden",
		`{"message":"quota exceeded"}`: "quota exceeded (HTTP 403)",
	} {
		resp := &http.Response{StatusCode: 403, Body: io.NopCloser(strings.NewReader(body))}
		if got := ResponseError(resp).Error(); got != want {
			t.Errorf("body %s: got %q, want %q", body, got, want)
		}
	}
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"error":{"code":"x","message":"y"}}`))
	f.Add([]byte(`{"error":"y"}`))
	f.Add([]byte(`plain`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, msg := ErrorMessage(body)
		if msg != "" && msg == strings.TrimSpace(string(body)) && strings.HasPrefix(msg, "{") {
			t.Fatalf("raw JSON body %q passed through as the message", body)
		}
	})
}

func TestResolveRecentReadsListsAndPages(t *testing.T) {
	type item struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/list" {
			w.Write([]byte(`[{"id": "ex_ab12"}, {"id": "ex_ab34"}, {"id": "ex_cd56"}]`))
			return
		}
		w.Write([]byte(`{"items": [{"id": "ex_ab12"}, {"id": "ex_cd56"}]}`))
	}))
	defer srv.Close()
	c := &Client{Server: srv.URL, HTTP: srv.Client()}
	ref := func(it item) Ref { return Ref{ID: it.ID, Name: it.Name} }
	ctx := context.Background()
	if got, err := ResolveRecent(ctx, c, "execution", "ex_c", "/list", ref); err != nil || got.ID != "ex_cd56" {
		t.Errorf("prefix in a list: %v %v", got, err)
	}
	if _, err := ResolveRecent(ctx, c, "execution", "ex_ab", "/list", ref); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if got, err := ResolveRecent(ctx, c, "execution", "ex_ab", "/page", ref); err != nil || got.ID != "ex_ab12" {
		t.Errorf("prefix in a page: %v %v", got, err)
	}
	if got, err := ResolveRecent(ctx, c, "execution", "ex_old", "/page", ref); err != nil || got.ID != "ex_old" {
		t.Errorf("an ID not listed is passed on: %v %v", got, err)
	}
}
