// Package rest is the REST/JSON adapter of Arca's service.
//
// It decodes requests strictly into typed structs, authenticates the bearer
// token, calls one kms.Service method and encodes the result or the typed
// error. Authorisation, lifecycle checks and auditing happen in the service,
// never here; requests refused before reaching the service (unknown route,
// malformed body, bad token) are handed to Service.Reject so they are audited
// too.
//
// Every route is declared once, as data, in routes.go: method, path, body
// limit, whether it needs a token, and its handler. Routes lists them.
package rest
