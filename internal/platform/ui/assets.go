package ui

import (
	"io/fs"
	"net/http"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
)

// Assets serves the files of fsys under the URL path prefix (ending in
// "/"), cacheable for an hour. It is the handler of a system's public
// route for its scripts and styles:
//
//	sh.Handle(httpapi.Route{Method: "GET", Path: "/alerting/assets/", Public: true,
//		Summary: "Alerting pages' script and style", Handler: ui.Assets("/alerting/assets/", static)})
func Assets(prefix string, fsys fs.FS) httpapi.HandlerFunc {
	files := http.StripPrefix(prefix, http.FileServer(http.FS(fsys)))
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
		return nil
	}
}
