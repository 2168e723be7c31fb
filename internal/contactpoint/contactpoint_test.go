package contactpoint_test

import (
	"context"
	"errors"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func ptr[T any](v T) *T { return &v }

func TestWriteKeysLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := contactpoint.NewService(db)
		web, err := s.Create(ctx, contactpoint.Spec{Kind: ptr(contactpoint.Kind("website")), Name: ptr("Web shop")})
		if err != nil {
			t.Fatal(err)
		}
		if web.WriteKey == "" || !web.HasWriteKey {
			t.Fatal("a website contact point must get a write key")
		}
		store, err := s.Create(ctx, contactpoint.Spec{Kind: ptr(contactpoint.Kind("store")), Name: ptr("Main Street store")})
		if err != nil || store.WriteKey != "" || store.Online {
			t.Fatalf("a store gets no write key and is offline by default: %+v %v", store, err)
		}
		got, err := s.ByWriteKey(ctx, web.WriteKey)
		if err != nil || got.ID != web.ID {
			t.Fatalf("by write key: %v %v", got, err)
		}
		rotated, err := s.RotateWriteKey(ctx, web.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ByWriteKey(ctx, web.WriteKey); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("old key after rotation: %v", err)
		}
		if _, err := s.ByWriteKey(ctx, rotated); err != nil {
			t.Fatalf("new key: %v", err)
		}
		if _, err := s.Update(ctx, web.ID, contactpoint.Spec{Disabled: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ByWriteKey(ctx, rotated); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("key of a disabled contact point: %v", err)
		}
		list, _ := s.List(ctx, false)
		if len(list) != 1 || list[0].ID != store.ID {
			t.Fatalf("enabled list %v", list)
		}
		if _, err := s.RotateWriteKey(ctx, store.ID); err == nil {
			t.Fatal("a store got a write key")
		}
	})
}
