// Package audit records every request Arca receives, allowed, denied or failed.
//
// The service builds one Record per request and hands it to a Log before the
// result is returned; if the Log cannot make the record durable the request
// fails (fail closed). Records never contain plaintext, key material or
// tokens: the Record type has no field that could hold them.
//
// FileLog appends records as JSON lines and makes them durable with fsync.
// Concurrent requests share one write and one fsync (group commit), so
// durability does not cost a disk flush per request.
package audit
