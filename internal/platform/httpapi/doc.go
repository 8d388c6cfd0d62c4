// Package httpapi is the HTTP plumbing every Gaffer system shares: a router
// over net/http's pattern mux where each route declares its scope, JSON
// errors of the form {"error":{"code":...,"message":...}}, request IDs,
// authentication by bearer token or UI session, CSRF checks for cookie
// sessions, an audit entry for every mutating call, cursor pagination, and
// an OpenAPI document generated from the registered routes.
package httpapi
