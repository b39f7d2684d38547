package bolt_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/arcakms/arca/internal/storage"
	"github.com/arcakms/arca/internal/storage/bolt"
)

// benchValue is about the size of a sealed key-version record.
var benchValue = bytes.Repeat([]byte{0x5A}, 512)

// BenchmarkGet measures a read transaction with one Get of a warm record.
func BenchmarkGet(b *testing.B) {
	s := openTemp(b, bolt.Options{})
	err := s.Update(b.Context(), func(tx storage.Tx) error {
		for i := range 1000 {
			if _, err := tx.Put("keys", fmt.Sprintf("key-%04d", i), benchValue); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("key-%04d", i%1000)
		i++
		err := s.View(b.Context(), func(tx storage.Tx) error {
			_, err := tx.Get("keys", key)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPut measures one durable write transaction (fsync on commit, as
// in production) with one Put.
func BenchmarkPut(b *testing.B) {
	s := openTemp(b, bolt.Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("key-%04d", i%1000)
		i++
		err := s.Update(b.Context(), func(tx storage.Tx) error {
			_, err := tx.Put("keys", key, benchValue)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
