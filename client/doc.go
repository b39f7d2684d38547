// Package client is the Go SDK for the REST API (v1) of Arca, an open-source
// key management server.
//
// A Client is created once with New and shared: it is safe for concurrent use
// by many goroutines and keeps a pool of idle connections to the server, so a
// single Client serves a whole program (including a load generator).
//
//	c, err := client.New("https://arca.example.com:8200", client.WithToken(token))
//	if err != nil { ... }
//	ct, err := c.Encrypt(ctx, "billing", client.EncryptRequest{Plaintext: []byte("secret")})
//	if client.IsCode(err, client.CodeSealed) { ... }
//
// Every method takes a context.Context first and returns the typed response
// of the endpoint it calls. Binary fields ([]byte) are base64-encoded on the
// wire, as the API requires. A failure reported by the server is returned as
// an *Error carrying the API's stable error code; transport failures are
// returned as they come from net/http, wrapped.
//
// Errors never contain the token or any plaintext.
package client
