// Package definition reads workflow definitions in Maestro's formats —
// its JSON (the body of POST /api/v3/workflows) and its YAML DSL — into
// one model, and checks them: every error names the file, the path in
// the definition and the reason, and a definition with any error is
// refused whole. It knows nothing of the server.
package definition
