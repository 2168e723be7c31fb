package mailbox_test

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// imapServer runs an in-memory IMAP server with one user and INBOX.
func imapServer(t *testing.T) (addr string, user *imapmemserver.User) {
	t.Helper()
	mem := imapmemserver.New()
	user = imapmemserver.NewUser("support", "s3cret")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), user
}

func appendMail(t *testing.T, addr string, raw []byte) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("support", "s3cret").Wait(); err != nil {
		t.Fatal(err)
	}
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func seenCount(t *testing.T, addr string) int {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("support", "s3cret").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	d, err := c.Search(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return len(d.AllSeqNums())
}

// Two polls take one new message each; a restarted poller (new services on
// the same store) takes nothing twice, even when the server marks nothing.
func TestIMAPPolling(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addr, _ := imapServer(t)
		host, port, _ := net.SplitHostPort(addr)
		s := newServices(db)
		settings, _ := json.Marshal(map[string]any{"address": "support@acme.example",
			"imap": map[string]any{"host": host, "port": json.Number(port), "tls": "none", "user": "support"}})
		kind, name := contactpoint.Kind("email"), "Support"
		cp, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name, Settings: settings,
			Secrets: map[string]string{"imap_password": "s3cret"}})
		if err != nil {
			t.Fatal(err)
		}
		if cp.SecretsSet[0] != "imap_password" {
			t.Errorf("secrets set %v", cp.SecretsSet)
		}
		b, _ := json.Marshal(cp)
		if strings.Contains(string(b), "s3cret") {
			t.Fatalf("the contact point shows its password: %s", b)
		}

		appendMail(t, addr, fixture(t, "gmail.eml"))
		if n, err := s.Mail.PollOnce(ctx, cp.ID); err != nil || n != 1 {
			t.Fatalf("first poll: %d, %v", n, err)
		}
		appendMail(t, addr, fixture(t, "outlook.eml"))
		if n, err := s.Mail.PollOnce(ctx, cp.ID); err != nil || n != 1 {
			t.Fatalf("second poll: %d, %v", n, err)
		}
		if n := seenCount(t, addr); n != 2 {
			t.Errorf("%d messages marked seen, want 2", n)
		}

		// A restart: new services, same store, nothing new on the server.
		s2 := newServices(db)
		if n, err := s2.Mail.PollOnce(ctx, cp.ID); err != nil || n != 0 {
			t.Fatalf("poll after restart: %d, %v", n, err)
		}
		// The stored UID lost (a crash before it was saved): the messages are
		// fetched again only if unread; mark them unread to force it, and
		// Message-IDs keep them from doubling.
		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE email_mailboxes SET last_uid = 0")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s2.Mail.PollOnce(ctx, cp.ID); err != nil {
			t.Fatal(err)
		}
		var count int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM interactions WHERE source = ?", "email:"+cp.ID.String()).Scan(&count); err != nil || count != 2 {
			t.Fatalf("%d interactions, want 2 (%v)", count, err)
		}

		// RunIMAP takes what waits when it starts, then idles (the server
		// has IDLE through IMAP4rev2) and takes a new message when told.
		waitFor := func(want int) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for count < want && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				_ = db.QueryRow(ctx, "SELECT COUNT(*) FROM interactions WHERE source = ?", "email:"+cp.ID.String()).Scan(&count)
			}
			if count != want {
				t.Fatalf("RunIMAP: %d interactions, want %d", count, want)
			}
		}
		appendMail(t, addr, fixture(t, "apple.eml"))
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); s2.Mail.RunIMAP(rctx) }()
		defer func() { cancel(); <-done }()
		waitFor(3)
		time.Sleep(200 * time.Millisecond) // let it enter IDLE
		appendMail(t, addr, fixture(t, "latin1.eml"))
		waitFor(4)
	})
}
