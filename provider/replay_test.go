package provider

import (
	"errors"
	"testing"
	"time"
)

func TestMemoryReplay(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	m := newMemoryReplay(2, func() time.Time { return now })
	ctx := t.Context()
	remember := func(id string, until time.Time) (bool, error) { return m.Remember(ctx, id, until) }
	if ok, err := remember("a", now.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("first a = %v, %v; want new", ok, err)
	}
	if ok, err := remember("a", now.Add(time.Minute)); ok || err != nil {
		t.Fatalf("replayed a = %v, %v; want seen", ok, err)
	}
	if ok, _ := remember("b", now.Add(2*time.Minute)); !ok {
		t.Fatal("b not new")
	}
	// Full of live ids: refuse rather than forget one.
	if ok, err := remember("c", now.Add(time.Minute)); ok || !errors.Is(err, errReplayCacheFull) {
		t.Fatalf("c in a full cache = %v, %v; want errReplayCacheFull", ok, err)
	}
	now = now.Add(90 * time.Second) // a expired, b still live
	if ok, err := remember("c", now.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("c after a expired = %v, %v; want new", ok, err)
	}
	if ok, _ := remember("b", now.Add(time.Minute)); ok {
		t.Fatal("b accepted again before it expired")
	}
	if ok, _ := remember("a", now.Add(time.Minute)); ok {
		t.Fatal("a accepted although the cache is full of live ids")
	}
	if err := m.Forget(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if ok, err := remember("b", now.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("b after Forget = %v, %v; want new", ok, err)
	}
	if err := m.Forget(ctx, "never-seen"); err != nil {
		t.Errorf("Forget of an unknown id = %v, want nil", err)
	}
}
