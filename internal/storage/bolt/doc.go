// Package bolt implements storage.Store on an embedded bbolt database file.
//
// bbolt gives one process exclusive use of the file (an flock held while the
// store is open), serialisable transactions with any number of concurrent
// readers and one writer, and keys kept in byte-wise order, which is what the
// storage contract asks for. It is Arca's default backend.
//
// # On-disk layout
//
// Each storage.Namespace is one top-level bbolt bucket whose name is the
// namespace's bytes. A bucket is created by the first write to its namespace;
// reading a namespace that has no bucket behaves as an empty namespace, and
// buckets are never removed.
//
// Inside a bucket the bbolt key is the record key's bytes (a valid storage
// key: 1 to storage.MaxKeyLen bytes of UTF-8 without NUL, well within bbolt's
// 32768-byte limit), and the bbolt value is
//
//	offset 0, 8 bytes:  revision, uint64 big-endian
//	offset 8, the rest: the record value, possibly empty
//
// Revisions come from the bucket's sequence, bbolt's per-bucket counter kept
// in the bucket header (Bucket.NextSequence): every Create, Put and
// CompareAndSwap advances it by one and stores the record at the new value.
// So revisions grow across all keys of a namespace, a bucket's sequence is
// the highest revision it ever handed out, and because buckets are never
// removed a deleted key created again gets a revision greater than any it
// had, and no revision repeats. Deleting a key removes its entry and leaves
// the sequence alone.
//
// A stored value shorter than 8 bytes, or with revision 0, is reported as
// storage.ErrCorrupt rather than used. Values are not compressed or encoded
// further, so a record's bytes appear verbatim in the file; everything secret
// has been sealed before it reaches storage.
//
// # Transactions
//
// View and Update map onto bbolt read-only and read-write transactions. bbolt
// runs one write transaction at a time, so Update calls queue; View calls run
// concurrently with each other and with an Update. Do not start a View or
// Update from inside another one on the same goroutine: bbolt may need to
// remap the file while a read transaction is held, which then deadlocks.
//
// Values returned by a Tx are copied out of bbolt's memory map, so they stay
// valid after the transaction ends and survive later remaps of the file.
// Values passed to a Tx are copied too, so callers may reuse their buffers.
package bolt
