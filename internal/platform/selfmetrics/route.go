package selfmetrics

import "strings"

// RouteTag turns a route pattern such as "/api/v1/events/rules/{id}" into
// a tag value Spectator keeps intact: "api.v1.events.rules.id" ("root" for
// "/").
func RouteTag(pattern string) string {
	p := strings.Trim(strings.NewReplacer("{", "", "}", "", "$", "", "...", "").Replace(pattern), "/")
	if p == "" {
		return "root"
	}
	return strings.ReplaceAll(p, "/", ".")
}
