package ttlv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// readChunk is how much of a message body ReadMessage buffers ahead of
// the bytes actually received, so that a peer declaring a large message
// and then stalling costs at most this much memory, not the declared size.
const readChunk = 64 << 10

// ReadMessage reads one KMIP message from r: the 8-byte header, then
// exactly the value length the header declares, and nothing more, so the
// next message on the stream is left unread. It returns the whole encoded
// message (header included), ready for [Decode].
//
// The message must be a Structure with a [Known] or extension tag, and its
// total size, header included, must not exceed maxSize (zero or negative
// means [DefaultMaxSize]); these are checked from the header alone, before
// any buffer is allocated and before the body is read, and reported as a
// *[DecodeError] wrapping [ErrMalformed] (and [ErrLimit] for the size).
// After such an error the stream is positioned inside the message and
// cannot be resynchronised: the caller should close the connection.
//
// A clean end of stream before the first header byte returns io.EOF
// unwrapped; a stream that ends inside a message returns an error wrapping
// io.ErrUnexpectedEOF. Other read errors (deadlines, resets) are returned
// wrapped. ReadMessage sets no deadlines itself.
func ReadMessage(r io.Reader, maxSize int) ([]byte, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("ttlv: reading message header: %w", err)
	}
	tag := Tag(h[0])<<16 | Tag(h[1])<<8 | Tag(h[2])
	typ := Type(h[3])
	n := uint64(binary.BigEndian.Uint32(h[4:]))
	switch {
	case !Known(tag) && !tag.IsExtension():
		return nil, malformed(0, tag, "unknown tag")
	case typ != TypeStructure:
		return nil, malformed(0, tag, "message is a %s, not a Structure", typ)
	case n%8 != 0:
		return nil, malformed(0, tag, "structure length %d is not a multiple of 8", n)
	case HeaderSize+n > uint64(maxSize):
		return nil, overLimit(0, tag, "declared message size %d exceeds the limit of %d", HeaderSize+n, maxSize)
	}

	total := HeaderSize + int(n)
	buf := make([]byte, HeaderSize, min(total, HeaderSize+readChunk))
	copy(buf, h[:])
	for len(buf) < total {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(total, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		got, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+got]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("ttlv: reading message body (%d of %d bytes): %w", len(buf), total, err)
		}
	}
	return buf, nil
}
