package storagetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/arcakms/arca/internal/storage"
)

// keysOf returns the keys of a page's items, in order.
func keysOf(page storage.Page) []string {
	keys := make([]string, len(page.Items))
	for i, it := range page.Items {
		keys[i] = it.Key
	}
	return keys
}

// sortedStrictly reports whether keys are in byte-wise ascending order with
// no repeats (Go compares strings byte by byte).
func sortedStrictly(keys []string) bool {
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			return false
		}
	}
	return true
}

// putAll stores value "v:<key>" under every key, in one transaction and in a
// shuffled order so that insertion order cannot pass for key order.
func putAll(t *testing.T, s storage.Store, ns storage.Namespace, keys []string) {
	t.Helper()
	shuffled := slices.Clone(keys)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	update(t, s, func(tx storage.Tx) error {
		for _, k := range shuffled {
			if _, err := tx.Put(ns, k, []byte("v:"+k)); err != nil {
				return err
			}
		}
		return nil
	})
}

// numbered returns n keys "<prefix>0000", "<prefix>0001", ...
func numbered(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return keys
}

// wantKeys fails the test unless got equals want.
func wantKeys(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got keys %q, want %q", what, got, want)
	}
}

// testListOrder: List returns items in byte-wise ascending key order (so
// upper case before lower case, "a/10" before "a/2", "z" before "é", and
// U+FF01 before U+1F600, which UTF-16 and locale collations order the other
// way), each with its value and revision; an empty namespace lists nothing.
func testListOrder(t *testing.T, s storage.Store) {
	if page := list(t, s, nsFresh, storage.ListOptions{}); len(page.Items) != 0 || page.Next != "" {
		t.Fatalf("List of an unwritten namespace = %q next %q, want nothing", keysOf(page), page.Next)
	}
	keys := []string{"b", "a", "B", "A", "a/2", "a/10", "a/1", "aa", "a-", "_", "~", "0", "9", "é", "e", "z", "Z", "\uff01", "😀", "\x01"}
	putAll(t, s, nsA, keys)
	put(t, s, nsA, "a", []byte("v:a")) // a second revision for one key

	page := list(t, s, nsA, storage.ListOptions{})
	want := slices.Clone(keys)
	slices.Sort(want)
	wantKeys(t, "List", keysOf(page), want)
	if page.Next != "" {
		t.Fatalf("List of everything: Next = %q, want empty", page.Next)
	}
	for _, it := range page.Items {
		if string(it.Value) != "v:"+it.Key {
			t.Fatalf("List item %q has value %q", it.Key, it.Value)
		}
		if g := mustGet(t, s, nsA, it.Key); g.Revision != it.Revision {
			t.Fatalf("List item %q has revision %d, Get says %d", it.Key, it.Revision, g.Revision)
		}
	}
}

// testListPrefixAndAfter: Prefix restricts the keys; After starts strictly
// after a key, which need not exist and may lie before or beyond the prefix.
func testListPrefixAndAfter(t *testing.T, s storage.Store) {
	putAll(t, s, nsA, []string{"a", "a/1", "a/10", "a/2", "ab", "b/1", "0"})
	cases := []struct {
		prefix, after string
		limit         int
		want          []string
	}{
		{"a/", "", 0, []string{"a/1", "a/10", "a/2"}},
		{"a", "", 0, []string{"a", "a/1", "a/10", "a/2", "ab"}},
		{"zzz", "", 0, nil},
		{"a/1", "", 0, []string{"a/1", "a/10"}},
		{"a/", "a/1", 0, []string{"a/10", "a/2"}},
		{"a/", "a/10", 0, []string{"a/2"}},
		{"a/", "a/15", 0, []string{"a/2"}},
		{"a/", "a/2", 0, nil},
		{"a/", "a/", 0, []string{"a/1", "a/10", "a/2"}},
		{"a/", "0", 0, []string{"a/1", "a/10", "a/2"}},
		{"a/", "b", 0, nil},
		{"", "a/2", 0, []string{"ab", "b/1"}},
		{"", "", 0, []string{"0", "a", "a/1", "a/10", "a/2", "ab", "b/1"}},
		{"a/", "", 2, []string{"a/1", "a/10"}},
	}
	for _, c := range cases {
		page := list(t, s, nsA, storage.ListOptions{Prefix: c.prefix, After: c.after, Limit: c.limit})
		wantKeys(t, fmt.Sprintf("List(Prefix %q, After %q, Limit %d)", c.prefix, c.after, c.limit), keysOf(page), c.want)
	}

	// Following Next within a prefix visits the rest of it and then stops.
	first := list(t, s, nsA, storage.ListOptions{Prefix: "a/", Limit: 2})
	if first.Next == "" {
		t.Fatalf("first page of a/ with Limit 2 has an empty Next")
	}
	rest := list(t, s, nsA, storage.ListOptions{Prefix: "a/", After: first.Next, Limit: 2})
	wantKeys(t, "second page of a/", keysOf(rest), []string{"a/2"})
	if rest.Next != "" {
		t.Fatalf("last page of a/ has Next %q, want empty", rest.Next)
	}
}

// testListPaging: following Next returns every key exactly once, in order,
// in full pages, with an empty Next on the last page, including when the
// count is an exact multiple of the page size.
func testListPaging(t *testing.T, s storage.Store) {
	keys := numbered("key-", 250)
	putAll(t, s, nsA, keys)
	got, sizes := listAll(t, s, nsA, "", 100)
	wantKeys(t, "paging 250 keys by 100", got, keys)
	if !slices.Equal(sizes, []int{100, 100, 50}) {
		t.Fatalf("page sizes = %v, want [100 100 50]", sizes)
	}

	exact := numbered("exact-", 200)
	putAll(t, s, nsB, exact)
	got, sizes = listAll(t, s, nsB, "", 100)
	wantKeys(t, "paging 200 keys by 100", got, exact)
	if !slices.Equal(sizes, []int{100, 100}) {
		t.Fatalf("page sizes = %v, want [100 100] (Next must be empty on a full last page)", sizes)
	}

	p, q := numbered("p/", 150), numbered("q/", 150)
	putAll(t, s, nsAB, append(slices.Clone(q), p...))
	got, sizes = listAll(t, s, nsAB, "p/", 100)
	wantKeys(t, "paging prefix p/ by 100", got, p)
	if !slices.Equal(sizes, []int{100, 50}) {
		t.Fatalf("page sizes with prefix = %v, want [100 50]", sizes)
	}
}

// testListLimit: a zero or negative Limit means DefaultListLimit and a Limit
// above MaxListLimit is clamped to it.
func testListLimit(t *testing.T, s storage.Store) {
	keys := numbered("k", storage.MaxListLimit+5)
	putAll(t, s, nsA, keys)
	cases := []struct{ limit, want int }{
		{0, storage.DefaultListLimit},
		{-5, storage.DefaultListLimit},
		{7, 7},
		{storage.MaxListLimit, storage.MaxListLimit},
		{storage.MaxListLimit + 500, storage.MaxListLimit},
	}
	for _, c := range cases {
		page := list(t, s, nsA, storage.ListOptions{Limit: c.limit})
		wantKeys(t, fmt.Sprintf("List(Limit %d)", c.limit), keysOf(page), keys[:c.want])
		if page.Next == "" {
			t.Fatalf("List(Limit %d) of %d keys has an empty Next", c.limit, len(keys))
		}
	}
}

// testNamespacesListed: Namespaces names, in order, every namespace with an
// item, and no namespace that never held one; a namespace emptied by Delete
// may be listed or not, but lists no items.
func testNamespacesListed(t *testing.T, s storage.Store) {
	var got []storage.Namespace
	view(t, s, func(tx storage.Tx) error {
		var err error
		got, err = tx.Namespaces()
		return err
	})
	if len(got) != 0 {
		t.Fatalf("empty store lists namespaces %v", got)
	}
	update(t, s, func(tx storage.Tx) error {
		for _, ns := range []storage.Namespace{nsB, nsAB, nsA} {
			if _, err := tx.Put(ns, "k", []byte("v")); err != nil {
				return err
			}
		}
		if _, err := tx.Put(nsFresh, "gone", []byte("v")); err != nil {
			return err
		}
		return tx.Delete(nsFresh, "gone")
	})
	view(t, s, func(tx storage.Tx) error {
		var err error
		got, err = tx.Namespaces()
		return err
	})
	got = slices.DeleteFunc(got, func(ns storage.Namespace) bool { return ns == nsFresh })
	if want := []storage.Namespace{nsA, nsAB, nsB}; !slices.Equal(got, want) {
		t.Fatalf("namespaces %v, want %v", got, want)
	}
}
